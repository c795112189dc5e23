import { RepositoryContracts } from "@isp-framework/core/testing"
import { Layer } from "effect"
import { MemoryAlertRepository, MemoryTemplateRepository, MemoryServiceRepository } from "../../src/memory/index.js"

RepositoryContracts.alertRepositoryContract("MemoryAlertRepository", Layer.mergeAll(MemoryAlertRepository.layer, MemoryServiceRepository.layer, MemoryTemplateRepository.layer))
