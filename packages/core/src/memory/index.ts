/**
 * In-memory adapters for the repository ports: for tests, demos and embedding without a database.
 * Each layer starts empty; state lives as long as the layer's scope.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import * as MemoryAlertRepository from "./MemoryAlertRepository.js"
import * as MemoryServiceRepository from "./MemoryServiceRepository.js"
import * as MemoryTemplateRepository from "./MemoryTemplateRepository.js"
import * as MemoryWorkflowRepository from "./MemoryWorkflowRepository.js"

export { MemoryAlertRepository, MemoryServiceRepository, MemoryTemplateRepository, MemoryWorkflowRepository }

/**
 * The four repositories (templates, services + history, workflows, alerts), each with a fresh store.
 *
 * @since 0.1.0
 */
export const MemoryRepositoriesLayer = Layer.mergeAll(
  MemoryTemplateRepository.layer,
  MemoryServiceRepository.layer,
  MemoryWorkflowRepository.layer,
  MemoryAlertRepository.layer
)
