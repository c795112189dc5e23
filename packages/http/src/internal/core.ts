/**
 * The core names the HTTP layer uses, in one place.
 */
export {
  AddressInUse,
  AddressOutsidePool,
  ApiToken,
  InvalidAddress,
  InvalidCursor,
  InvalidFilter,
  IpAssignment,
  PoolExhausted,
  PoolNotFound,
  ServiceCatalog,
  ServiceProvisioning,
  ServiceQuery,
  TokenId,
  TokenNotFound,
  TokenRepository,
  TokenScope
} from "@isp-framework/core"
export type { Principal, ServiceWithRelations } from "@isp-framework/core"
import { FilterDict } from "@isp-framework/core"
export const AlertFilterSpec = FilterDict.AlertFilterSpec
export const parseFilters = FilterDict.parse
export { ServiceAlerts, ServiceUsage } from "@isp-framework/core"
