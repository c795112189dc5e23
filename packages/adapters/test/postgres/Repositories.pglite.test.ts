import { RepositoryContracts } from "@isp-framework/core/testing"
import { Layer } from "effect"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories, shareForFile } from "./support.js"

const db = TestDatabase.layerPglite()
const memoMap = shareForFile(db)

RepositoryContracts.all("PGlite", repositories.pipe(Layer.provide(db)), { timeout: "120 seconds", memoMap })
