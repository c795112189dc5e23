/**
 * Shared plumbing for the Postgres repository tests: the four repositories over one test database,
 * and a way to share that database between the contract suites of one file.
 */
import type { SqlClient } from "@effect/sql"
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import * as PgAlertRepository from "../../src/postgres/PgAlertRepository.js"
import * as PgServiceRepository from "../../src/postgres/PgServiceRepository.js"
import * as PgTemplateRepository from "../../src/postgres/PgTemplateRepository.js"
import * as PgWorkflowRepository from "../../src/postgres/PgWorkflowRepository.js"

/** The four repositories over the ambient `SqlClient`. */
export const repositories = Layer.mergeAll(
  PgTemplateRepository.layer,
  PgServiceRepository.layer,
  PgWorkflowRepository.layer,
  PgAlertRepository.layer
)

/**
 * Builds `db` once for the whole test file and keeps it alive until the file ends, so the suites
 * that receive the returned memo map share one database (each suite alone would release it in its
 * own `afterAll` and the next suite would find a closed client).
 */
export const shareForFile = <E>(db: Layer.Layer<SqlClient.SqlClient, E>, timeoutMs = 120_000): Layer.MemoMap => {
  const memoMap = Effect.runSync(Layer.makeMemoMap)
  const scope = Effect.runSync(Scope.make())
  beforeAll(() => Effect.runPromise(Effect.orDie(Layer.buildWithMemoMap(db, memoMap, scope))), timeoutMs)
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)), timeoutMs)
  return memoMap
}
