/**
 * An `@effect/sql` {@link SqlClient.SqlClient} over an in-process PGlite (PostgreSQL compiled to WASM),
 * so every SQL path of the framework runs with no database server.
 *
 * - Statements are compiled by `@effect/sql-pg`'s compiler: the same SQL text as `PgClient`.
 * - Rows are parsed with node-postgres' own type parsers and parameters serialised with its
 *   `prepareValue`, so a row has the same JS types on both clients (int8 and numeric as strings,
 *   timestamptz/timestamp/date as `Date`, jsonb parsed, uuid/inet/cidr as strings, bytea as `Buffer`).
 * - PGlite is one backend session: a one-permit semaphore serialises statements, and a transaction
 *   (or `sql.reserve`) holds the permit for its whole scope, so transactions never interleave.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as PgClient from "@effect/sql-pg/PgClient"
import { PGlite } from "@electric-sql/pglite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as String from "effect/String"
import { parserFor, prepareValue } from "./internal/NodePostgresTypes.js"

/**
 * @since 0.1.0
 */
export interface PgliteClientConfig {
  /** A directory for a persistent database (created on first use). Omitted: in memory. */
  readonly dataDir?: string | undefined
  readonly transformResultNames?: ((str: string) => string) | undefined
  readonly transformQueryNames?: ((str: string) => string) | undefined
  readonly transformJson?: boolean | undefined
  readonly spanAttributes?: Record<string, unknown> | undefined
}

/**
 * The embedded client: a `SqlClient` plus the underlying PGlite instance (for dumps, `describeQuery`, ...).
 *
 * @since 0.1.0
 */
export interface PgliteClient extends SqlClient.SqlClient {
  readonly config: PgliteClientConfig
  readonly pglite: PGlite
}

/**
 * @since 0.1.0
 */
export const PgliteClient = Context.GenericTag<PgliteClient>("@isp-framework/adapters/PgliteClient")

type TransformRows = (<A extends object>(row: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

interface PgliteResults {
  readonly rows: ReadonlyArray<any>
}

const statementError = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

/**
 * Starts PGlite (initdb in WASM: a few seconds in memory) and builds the client. The instance is
 * closed when the scope closes.
 *
 * @since 0.1.0
 */
export const make = (
  config: PgliteClientConfig
): Effect.Effect<PgliteClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const db = await PGlite.create(config.dataDir ?? "memory://")
          // node-postgres' parser for every built-in type (identity where pg has none), so rows match PgClient.
          const types = await db.query<{ oid: number }>("SELECT oid::int4 AS oid FROM pg_catalog.pg_type")
          for (const { oid } of types.rows) db.parsers[oid] = parserFor(oid)
          // node-postgres sends bytea given as a string verbatim; PGlite's serializer only takes bytes.
          const bytea = db.serializers[17]
          db.serializers[17] = (value: any) => typeof value === "string" ? value : bytea!(value)
          return db
        },
        catch: (cause) => new SqlError({ cause, message: "PgliteClient: failed to start PGlite" })
      }),
      (db) => Effect.promise(() => db.close())
    )

    const semaphore = yield* Effect.makeSemaphore(1)
    const compiler = PgClient.makeCompiler(config.transformQueryNames, config.transformJson)
    const transformRows = config.transformResultNames
      ? Statement.defaultTransforms(config.transformResultNames, config.transformJson).array
      : undefined

    // Without parameters use the simple protocol, as node-postgres does: it allows several statements
    // in one `sql.unsafe` (schema scripts) and returns one row array per statement.
    const runQuery = (sql: string, params: ReadonlyArray<unknown>, rowMode?: "array") =>
      Effect.tryPromise({
        try: async (): Promise<ReadonlyArray<any>> => {
          if (params.length === 0) {
            const results = await db.exec(sql, rowMode ? { rowMode } : undefined)
            return results.length === 1 ? results[0]!.rows : results.map((r) => r.rows)
          }
          const result = await db.query(sql, params.map(prepareValue), rowMode ? { rowMode } : undefined)
          return result.rows
        },
        catch: statementError
      })

    const runRaw = (sql: string, params: ReadonlyArray<unknown>) =>
      Effect.tryPromise({
        try: async (): Promise<PgliteResults | ReadonlyArray<PgliteResults>> => {
          if (params.length === 0) {
            const results = await db.exec(sql)
            return results.length === 1 ? results[0]! : results
          }
          return await db.query(sql, params.map(prepareValue))
        },
        catch: statementError
      })

    const makeConnection = (locked: boolean): Connection => {
      // Uninterruptible: an abandoned PGlite promise would still run after the permit was released.
      const guard = <A>(effect: Effect.Effect<A, SqlError>) =>
        locked ? Effect.uninterruptible(effect) : semaphore.withPermits(1)(Effect.uninterruptible(effect))
      const execute = (sql: string, params: ReadonlyArray<unknown>, transform: TransformRows) =>
        guard(transform ? Effect.map(runQuery(sql, params), transform) : runQuery(sql, params))
      return {
        execute,
        executeUnprepared: execute,
        executeRaw: (sql, params) => guard(runRaw(sql, params)),
        executeValues: (sql, params) => guard(runQuery(sql, params, "array")),
        // PGlite has no cursors: the statement runs to completion, then its rows are streamed.
        executeStream: (sql, params, transform) => Stream.fromIterableEffect(execute(sql, params, transform))
      }
    }

    const connection = makeConnection(false)
    const transactionConnection = makeConnection(true)
    // The permit is held until the transaction's (or reservation's) scope closes.
    const transactionAcquirer: Connection.Acquirer = Effect.uninterruptibleMask((restore) =>
      restore(semaphore.take(1)).pipe(
        Effect.zipRight(Effect.addFinalizer(() => semaphore.release(1))),
        Effect.as(transactionConnection)
      )
    )

    const client = yield* SqlClient.make({
      acquirer: Effect.succeed(connection),
      transactionAcquirer,
      compiler,
      spanAttributes: [
        ...(config.spanAttributes ? Object.entries(config.spanAttributes) : []),
        ["db.system.name", "postgresql"],
        ["db.namespace", config.dataDir ?? "pglite:memory"]
      ],
      transformRows
    })

    return Object.assign(client, { config, pglite: db })
  })

/**
 * The project's defaults: camelCase in TypeScript, snake_case in SQL (as configured for `PgClient`).
 *
 * @since 0.1.0
 */
export const defaultTransforms = {
  transformQueryNames: String.camelToSnake,
  transformResultNames: String.snakeToCamel
} as const

/**
 * A Layer providing {@link PgliteClient} and the generic `SqlClient`, with the camel/snake transforms
 * on unless overridden. `layer({})` is an in-memory database; `layer({ dataDir })` persists.
 *
 * @since 0.1.0
 */
export const layer = (
  config: PgliteClientConfig = {}
): Layer.Layer<PgliteClient | SqlClient.SqlClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(make({ ...defaultTransforms, ...config }), (client) =>
      Context.make(PgliteClient, client).pipe(Context.add(SqlClient.SqlClient, client)))
  ).pipe(Layer.provide(Reactivity.layer))
