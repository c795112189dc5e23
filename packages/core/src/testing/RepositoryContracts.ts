/**
 * The repository contract suites: each port's promised behaviour as one vitest suite over a Layer.
 * Adapter authors run them against their layer so every backend behaves like the in-memory one:
 *
 * ```ts
 * import { RepositoryContracts } from "@isp-framework/core/testing"
 * RepositoryContracts.all("postgres", PgRepositoriesLayer, { timeout: "30 seconds" })
 * ```
 *
 * Each suite shares one layer instance across its tests; tests use fresh ids and unique values and
 * never assume an empty store, so a database used by other tests is fine. Time comes from
 * `TestClock`: adapters must read "now" from Effect's `Clock`.
 *
 * @since 0.1.0
 */
import type { Layer } from "effect"
import type { AlertRepository } from "../ports/AlertRepository.js"
import type { ServiceRepository } from "../ports/ServiceRepository.js"
import type { TemplateRepository } from "../ports/TemplateRepository.js"
import type { WorkflowRepository } from "../ports/WorkflowRepository.js"
import { alertRepositoryContract } from "./AlertRepositoryContract.js"
import type { ContractOptions } from "./ContractSupport.js"
import { serviceRepositoryContract } from "./ServiceRepositoryContract.js"
import { templateRepositoryContract } from "./TemplateRepositoryContract.js"
import { workflowRepositoryContract } from "./WorkflowRepositoryContract.js"

export type { ContractOptions } from "./ContractSupport.js"
export { alertRepositoryContract, serviceRepositoryContract, templateRepositoryContract, workflowRepositoryContract }

/**
 * Every repository suite over one layer that provides all four repositories.
 *
 * @since 0.1.0
 */
export const all = <E>(
  name: string,
  layer: Layer.Layer<TemplateRepository | ServiceRepository | WorkflowRepository | AlertRepository, E>,
  options?: ContractOptions
): void => {
  templateRepositoryContract(`${name} TemplateRepository`, layer, options)
  serviceRepositoryContract(`${name} ServiceRepository`, layer, options)
  workflowRepositoryContract(`${name} WorkflowRepository`, layer, options)
  alertRepositoryContract(`${name} AlertRepository`, layer, options)
}
