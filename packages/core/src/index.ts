/**
 * @isp-framework/core — the pure heart of ISP Framework: domain models, the lifecycle state
 * machine, filter dicts, ports (Context.Tag interfaces), use-case services and in-memory adapters.
 *
 * ```ts
 * import { FilterDict, ServiceQuery, MemoryLayer } from "@isp-framework/core"
 * ```
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import { MemoryIpAllocator } from "./ip/index.js"
import { MemoryRepositoriesLayer } from "./memory/index.js"
import * as SimulatedNas from "./memory/SimulatedNas.js"
import * as SimulatedRadius from "./memory/SimulatedRadius.js"
import * as SimulatedRouter from "./memory/SimulatedRouter.js"
import { BillingHooksNoop } from "./ports/Network.js"
import * as Transactor from "./ports/Transactor.js"

// Domain: models, enums, ids, errors
export * from "./domain/Ids.js"
export * from "./domain/Enums.js"
export * from "./domain/Errors.js"
export * from "./domain/ServiceTemplate.js"
export * from "./domain/CustomerService.js"
export * from "./domain/StatusChange.js"
export * from "./domain/Workflow.js"
export * from "./domain/Alert.js"
export * from "./ip/index.js"
export * from "./domain/Usage.js"
export * from "./domain/ApiToken.js"

// Pure logic
export * from "./usage/index.js"
export * as Lifecycle from "./lifecycle/Lifecycle.js"
export * as FilterDict from "./filters/index.js"
export type { FilterQuery, Page } from "./filters/Ast.js"
export { InvalidCursor, InvalidFilter } from "./filters/Errors.js"

// Ports
export * from "./ports/TemplateRepository.js"
export * from "./ports/ServiceRepository.js"
export * from "./ports/WorkflowRepository.js"
export * from "./ports/AlertRepository.js"
export * from "./ports/Network.js"
export * from "./ports/TokenRepository.js"
export * from "./ports/UsageStore.js"
export { Transactor }
export * as Tracing from "./Tracing.js"

// Use-cases
export * from "./services/ServiceCatalog.js"
export * from "./services/ServiceLifecycle.js"
export * from "./services/ServiceQuery.js"
export * from "./services/ServiceProvisioning.js"
export * as Reconciler from "./services/Reconciler.js"
export * from "./services/ServiceUsage.js"
export * from "./services/ServiceAlerts.js"
export * from "./services/FupEnforcer.js"

// Workflows
export * as WorkflowDefinitions from "./workflows/Definitions.js"
export * as WorkflowState from "./workflows/WorkflowState.js"
export * as Desired from "./workflows/Desired.js"
export * as WorkflowSteps from "./workflows/Steps.js"
export * as Worker from "./workflows/Worker.js"
export { defaultSettings as defaultEngineSettings, EngineConfig, type EngineSettings, WorkflowEngine } from "./workflows/Engine.js"

// In-memory adapters
export * from "./memory/index.js"
export { SimulatedNas, SimulatedRadius, SimulatedRouter }
export * as MemoryTokenRepository from "./memory/MemoryTokenRepository.js"
export * as MemoryUsageStore from "./memory/MemoryUsageStore.js"

/** Time-ordered UUIDv7 generation, shared with adapters. */
export { newId, uuidv7 } from "./internal/uuid.js"

/**
 * Every port backed by memory: repositories, IP allocator, simulated RADIUS / router / NAS,
 * a serialising transactor and no-op billing hooks. Enough to run every use-case with no
 * database and no network.
 */
export const MemoryLayer = Layer.mergeAll(
  MemoryRepositoriesLayer,
  MemoryIpAllocator.layer,
  SimulatedRadius.layer,
  SimulatedRouter.layer,
  SimulatedNas.layer,
  Transactor.layerMemory,
  BillingHooksNoop
)
