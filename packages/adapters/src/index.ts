/**
 * @isp-framework/adapters — the edges of ISP Framework: PostgreSQL (and the embedded PGlite
 * default), FreeRADIUS SQL rows + CoA/Disconnect + accounting, and MikroTik RouterOS.
 * Each adapter is a Layer providing one of `@isp-framework/core`'s ports.
 *
 * @since 0.1.0
 */

// Database
export * as PgliteClient from "./embedded/PgliteClient.js"
export * as Database from "./postgres/Database.js"
export * as Migrations from "./postgres/Migrations.js"
export * as FilterSql from "./postgres/FilterSql.js"
export * as PgReadPool from "./postgres/PgReadPool.js"
export * as PgTemplateRepository from "./postgres/PgTemplateRepository.js"
export * as PgServiceRepository from "./postgres/PgServiceRepository.js"
export * as PgWorkflowRepository from "./postgres/PgWorkflowRepository.js"
export * as PgAlertRepository from "./postgres/PgAlertRepository.js"
export * as PgTokenRepository from "./postgres/PgTokenRepository.js"
export * as PgTransactor from "./postgres/PgTransactor.js"
export * as PgIpAllocator from "./postgres/ip/PgIpAllocator.js"
export * as PgUsageStore from "./postgres/usage/PgUsageStore.js"
export * as PgFramedIpLookup from "./postgres/usage/PgFramedIpLookup.js"

// RADIUS
export * as FreeradiusSchema from "./radius/FreeradiusSchema.js"
export * as FreeradiusConfig from "./radius/FreeradiusConfig.js"
export * as RadiusCodec from "./radius/RadiusCodec.js"
export * as CoaClient from "./radius/CoaClient.js"
export * as NasSessionControlLive from "./radius/NasSessionControlLive.js"
export * as SqlRadiusProvisioner from "./radius/SqlRadiusProvisioner.js"
export * as AccountingServer from "./radius/AccountingServer.js"
export * as RadacctImporter from "./radius/RadacctImporter.js"

// MikroTik RouterOS
export * from "./routeros/index.js"

// Compositions
export * as PostgresLayer from "./layers/PostgresLayer.js"
export * as NetworkLayer from "./layers/NetworkLayer.js"
export * as CanonicalRouter from "./layers/CanonicalRouter.js"
export * as ProvisioningLayer from "./layers/ProvisioningLayer.js"
export * as UsageRuntime from "./layers/UsageRuntime.js"
