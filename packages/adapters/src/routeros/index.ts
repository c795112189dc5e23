/**
 * MikroTik RouterOS adapter: the core `RouterProvisioner` port over node-routeros, the pooled
 * command client under it, and a simulated port for running without a router.
 *
 * @since 0.1.0
 */
export * as RouterOsClient from "./RouterOsClient.js"
export type { RouterOsConfig } from "./RouterOsConfig.js"
export * as RouterOsErrors from "./RouterOsErrors.js"
export * as RouterOsProvisioner from "./RouterOsProvisioner.js"
export * as SimulatedRouterProvisioner from "./SimulatedRouterProvisioner.js"
