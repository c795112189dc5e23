/**
 * The core names the HTTP layer uses that `@isp-framework/core`'s index does not export yet.
 * TODO(lead): once the core index exports services/, memory/, filters/ and ApiToken/TokenRepository,
 * replace these relative re-exports with `export { … } from "@isp-framework/core"`.
 */
export { ApiToken, TokenId, TokenNotFound, TokenScope } from "../../../core/src/domain/ApiToken.js"
export type { Principal } from "../../../core/src/domain/ApiToken.js"
export { TokenRepository } from "../../../core/src/ports/TokenRepository.js"
export { InvalidCursor, InvalidFilter } from "../../../core/src/filters/Errors.js"
export { AlertFilterSpec } from "../../../core/src/filters/specs/AlertFilterSpec.js"
export { parse as parseFilters } from "../../../core/src/filters/Parse.js"
export { ServiceCatalog } from "../../../core/src/services/ServiceCatalog.js"
export { ServiceQuery } from "../../../core/src/services/ServiceQuery.js"
export type { ServiceWithRelations } from "../../../core/src/services/ServiceQuery.js"
export { ServiceProvisioning } from "../../../core/src/services/ServiceProvisioning.js"
export { IpAssignment, PoolExhausted, PoolNotFound, AddressInUse, AddressOutsidePool, InvalidAddress } from "../../../core/src/domain/IpPool.js"
