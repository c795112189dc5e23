import { RepositoryContracts } from "@isp-framework/core/testing"
import { MemoryTemplateRepository } from "../../src/memory/index.js"

RepositoryContracts.templateRepositoryContract("MemoryTemplateRepository", MemoryTemplateRepository.layer)
