/**
 * @isp-framework/core — the pure heart of ISP Framework: domain models, the lifecycle state
 * machine, filter dicts, ports (Context.Tag interfaces) and use-case services.
 *
 * @since 0.1.0
 */
export * from "./domain/Ids.js"
export * from "./domain/Enums.js"
export * from "./domain/Errors.js"
export * from "./domain/ServiceTemplate.js"
export * from "./domain/CustomerService.js"
export * from "./domain/StatusChange.js"
export * from "./domain/Workflow.js"
export * from "./domain/Alert.js"

export * from "./ports/TemplateRepository.js"
export * from "./ports/ServiceRepository.js"
export * from "./ports/WorkflowRepository.js"
export * from "./ports/AlertRepository.js"
export * from "./ports/Network.js"

export type * from "./filters/Ast.js"

/** Time-ordered UUIDv7 generation, shared with adapters. */
export { newId, uuidv7 } from "./internal/uuid.js"
