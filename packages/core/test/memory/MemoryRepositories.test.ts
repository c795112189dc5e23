import { RepositoryContracts } from "@isp-framework/core/testing"
import { MemoryRepositoriesLayer } from "../../src/memory/index.js"

// The merged layer as an application would use it: all four suites over one instance each.
RepositoryContracts.all("MemoryRepositoriesLayer", MemoryRepositoriesLayer)
