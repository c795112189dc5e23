import { describe } from "@effect/vitest"
import { RepositoryContracts } from "@isp-framework/core/testing"
import { Layer } from "effect"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories, shareForFile } from "./support.js"

// CI sets DATABASE_URL, so there this always runs; it skips only where no PostgreSQL is reachable.
describe.skipIf(!TestDatabase.realPostgresAvailable())("PostgreSQL", () => {
  const db = TestDatabase.layerPg()
  const memoMap = shareForFile(db)
  RepositoryContracts.all("PostgreSQL", repositories.pipe(Layer.provide(db)), { timeout: "120 seconds", memoMap })
})
