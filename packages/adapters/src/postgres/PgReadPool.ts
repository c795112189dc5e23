/**
 * A direct line to the node-postgres pool behind `PgClient`, for the hottest reads.
 *
 * Why: `@effect/sql` runs every statement through ~67 steps of Effect's run loop (an `sql.execute`
 * span even with tracing off, a `Scope` per statement, the connection acquisition); on
 * `GET /v1/services` that is a quarter of the request's Effect work. {@link execute} runs the same
 * statement, compiled by the same compiler, as one `pool.query`: the rows are the ones the
 * statement would return (no client transforms: use it with `sql.withoutTransforms()`), errors are
 * the same `SqlError`, and the `sql.execute` span is still there while tracing is on.
 *
 * It steps aside — the statement runs as usual — inside `sql.withTransaction` (the read must see
 * the transaction) and under `Statement.withTransformer`. PGlite has no pool: without a
 * `PgReadPool` in context, repositories take the statement path.
 *
 * Build the client with {@link make} (or `Database.layerPg`) to get both from one pool.
 *
 * @since 0.1.0
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Tracing } from "@isp-framework/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"

/**
 * The pool `PgClient` runs on.
 *
 * @since 0.1.0
 */
export interface PgReadPool {
  readonly pool: pg.Pool
  /** Attributes of the `sql.execute` spans, as `PgClient` sets them (system, database, server). */
  readonly spanAttributes?: Readonly<Record<string, unknown>> | undefined
}

/**
 * @since 0.1.0
 */
export const PgReadPool = Context.GenericTag<PgReadPool>("@isp-framework/adapters/PgReadPool")

type Row = Record<string, unknown>

const onPool = (pool: pg.Pool, text: string, params: ReadonlyArray<unknown>) =>
  // No canceller: an interrupted read finishes on its connection and its rows are dropped (the
  // reads sent here are single bounded statements; cancelling would take another connection).
  Effect.async<ReadonlyArray<Row>, SqlError>((resume) => {
    pool.query<Row>(text, params as Array<unknown>, (cause, result) =>
      resume(
        cause
          ? Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
          : Effect.succeed(result.rows)
      ))
  })

/**
 * Runs `statement` on the pool in one step, or as a statement inside a transaction or under a
 * statement transformer.
 *
 * @since 0.1.0
 */
export const execute = <A extends object>(
  readPool: PgReadPool,
  statement: Statement.Statement<A>
): Effect.Effect<ReadonlyArray<A>, SqlError> =>
  Effect.withFiberRuntime((fiber) => {
    if (
      Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)._tag === "Some" ||
      fiber.getFiberRef(Statement.currentTransformer)._tag === "Some"
    ) {
      return statement
    }
    const [text, params] = statement.compile()
    return onPool(readPool.pool, text, params).pipe(
      Tracing.spanWhenTraced("sql.execute", {
        kind: "client",
        attributes: {
          "db.system.name": "postgresql",
          ...readPool.spanAttributes,
          "db.operation.name": "execute",
          "db.query.text": text
        }
      })
    ) as Effect.Effect<ReadonlyArray<A>, SqlError>
  })

/**
 * A `PgClient` and its {@link PgReadPool} on one node-postgres pool, configured as
 * `PgClient.make` configures its own (and checked with `SELECT 1` within `connectTimeout`, 5 s by
 * default). The pool ends when the scope closes.
 *
 * @since 0.1.0
 */
export const make = (
  config: PgClient.PgClientConfig
): Effect.Effect<{ readonly client: PgClient.PgClient; readonly readPool: PgReadPool }, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          connectionString: config.url ? Redacted.value(config.url) : undefined,
          user: config.username,
          host: config.host,
          database: config.database,
          password: config.password ? Redacted.value(config.password) : undefined,
          ssl: config.ssl,
          port: config.port,
          ...(config.stream ? { stream: config.stream } : {}),
          connectionTimeoutMillis: config.connectTimeout ? Duration.toMillis(config.connectTimeout) : undefined,
          idleTimeoutMillis: config.idleTimeout ? Duration.toMillis(config.idleTimeout) : undefined,
          max: config.maxConnections,
          min: config.minConnections,
          maxLifetimeSeconds: config.connectionTTL ? Duration.toSeconds(config.connectionTTL) : undefined,
          application_name: config.applicationName ?? "@effect/sql-pg",
          types: config.types
        } as pg.PoolConfig)
        // Errors of idle clients: the pool drops them and the next query opens a new connection.
        pool.on("error", () => {})
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
    )
    yield* Effect.tryPromise({
      try: () => pool.query("SELECT 1"),
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }).pipe(
      Effect.timeoutFail({
        duration: config.connectTimeout ?? Duration.seconds(5),
        onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
      })
    )
    const client = yield* PgClient.fromPool({
      acquire: Effect.succeed(pool),
      ...(config.transformQueryNames ? { transformQueryNames: config.transformQueryNames } : {}),
      ...(config.transformResultNames ? { transformResultNames: config.transformResultNames } : {}),
      ...(config.transformJson !== undefined ? { transformJson: config.transformJson } : {}),
      ...(config.spanAttributes ? { spanAttributes: config.spanAttributes } : {})
    })
    // As PgClient derives its own span attributes, from the config it parsed out of the pool.
    const parsed = client.config
    const spanAttributes = {
      ...config.spanAttributes,
      "db.system.name": "postgresql",
      "db.namespace": parsed.database ?? parsed.username ?? "postgres",
      "server.address": parsed.host ?? "localhost",
      "server.port": parsed.port ?? 5432
    }
    return { client, readPool: PgReadPool.of({ pool, spanAttributes }) }
  })
