/**
 * The core `Transactor` port over `@effect/sql`'s `withTransaction`: the effect runs on one
 * connection between BEGIN and COMMIT (ROLLBACK when it fails or is interrupted). Nested calls become
 * savepoints of the outer transaction, so a use-case may call repositories that open their own.
 *
 * Repositories capture the `SqlClient` when their layer is built; that is fine: the transaction's
 * connection travels in the fiber's context, so every query inside `withTransaction` uses it.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Transactor } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Builds the transactor over the ambient `SqlClient`. A failing BEGIN/COMMIT (`SqlError`) is an
 * infrastructure failure and becomes a defect; the effect's own errors pass through unchanged.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<Transactor.Transactor, never, SqlClient.SqlClient> = Effect.map(
  SqlClient.SqlClient,
  (sql) =>
    Transactor.Transactor.of({
      withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        // Tag our own errors so a SqlError raised by the effect itself is not mistaken for BEGIN/COMMIT's.
        sql.withTransaction(Effect.mapError(effect, (error) => ({ _own: error }) as const)).pipe(
          Effect.catchAll((e) => ("_own" in e ? Effect.fail(e._own) : Effect.die(e))),
          Effect.withSpan("PgTransactor.withTransaction")
        )
    })
)

/**
 * The transactor as a layer over `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Transactor.Transactor, never, SqlClient.SqlClient> = Layer.effect(Transactor.Transactor, make)
