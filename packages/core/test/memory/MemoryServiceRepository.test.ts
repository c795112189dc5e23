import { RepositoryContracts } from "@isp-framework/core/testing"
import { Layer } from "effect"
import { MemoryServiceRepository, MemoryTemplateRepository } from "../../src/memory/index.js"

RepositoryContracts.serviceRepositoryContract("MemoryServiceRepository", Layer.merge(MemoryServiceRepository.layer, MemoryTemplateRepository.layer))
