import { RepositoryContracts } from "@isp-framework/core/testing"
import { Layer } from "effect"
import { MemoryWorkflowRepository, MemoryTemplateRepository, MemoryServiceRepository } from "../../src/memory/index.js"

RepositoryContracts.workflowRepositoryContract("MemoryWorkflowRepository", Layer.mergeAll(MemoryWorkflowRepository.layer, MemoryServiceRepository.layer, MemoryTemplateRepository.layer))
