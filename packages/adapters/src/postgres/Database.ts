/**
 * The one database switch: real PostgreSQL through `PgClient` when `DATABASE_URL` is set, otherwise an
 * embedded PGlite (in memory, or persisted under `PGLITE_DATA_DIR`). Both provide the generic
 * `SqlClient` with camelCase <-> snake_case transforms, so repositories never know which one runs.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as String from "effect/String"
import * as PgliteClient from "../embedded/PgliteClient.js"
import * as PgReadPool from "./PgReadPool.js"

/**
 * Options for the PostgreSQL side; everything but the URL configures the pool as `PgClient` would.
 *
 * @since 0.1.0
 */
export type PgOptions = Omit<PgClient.PgClientConfig, "url" | "transformQueryNames" | "transformResultNames">

/**
 * A real PostgreSQL server (node-postgres pool) at `url`: `PgClient` plus a {@link PgReadPool} on
 * the same pool, which the service searches use.
 *
 * @since 0.1.0
 */
export const layerPg = (
  url: string | Redacted.Redacted,
  options: PgOptions = {}
): Layer.Layer<SqlClient.SqlClient | PgClient.PgClient | PgReadPool.PgReadPool, SqlError> =>
  Layer.scopedContext(
    Effect.map(
      PgReadPool.make({
        applicationName: "isp-framework",
        ...options,
        url: Redacted.isRedacted(url) ? url : Redacted.make(url),
        transformQueryNames: String.camelToSnake,
        transformResultNames: String.snakeToCamel
      }),
      ({ client, readPool }) =>
        Context.make(PgClient.PgClient, client).pipe(
          Context.add(SqlClient.SqlClient, client),
          Context.add(PgReadPool.PgReadPool, readPool)
        )
    )
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * An embedded PGlite: in memory, or persisted in `dataDir`.
 *
 * @since 0.1.0
 */
export const layerPglite = (
  options: { readonly dataDir?: string | undefined } = {}
): Layer.Layer<SqlClient.SqlClient | PgliteClient.PgliteClient, SqlError> =>
  PgliteClient.layer({ dataDir: options.dataDir })

/**
 * The environment the switch reads: `DATABASE_URL` (optional, secret) and `PGLITE_DATA_DIR` (optional).
 *
 * @since 0.1.0
 */
export const config = Config.all({
  url: Config.option(Config.redacted("DATABASE_URL")),
  pgliteDataDir: Config.option(Config.string("PGLITE_DATA_DIR"))
})

/**
 * `DATABASE_URL` set -> PostgreSQL; unset -> PGlite (`PGLITE_DATA_DIR` for persistence, else in memory).
 * Provides only the generic `SqlClient`; run `Migrations.migrate()` (or `Migrations.layer()`) on top.
 *
 * @since 0.1.0
 */
export const layerFromEnv: Layer.Layer<SqlClient.SqlClient, SqlError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(config, ({ pgliteDataDir, url }) =>
    // An empty DATABASE_URL counts as unset (CI templates often export it empty).
    Option.match(Option.filter(url, (u) => Redacted.value(u).trim() !== ""), {
      onSome: (url) => layerPg(url),
      onNone: () => layerPglite({ dataDir: Option.getOrUndefined(pgliteDataDir) })
    }))
)

/**
 * Alias of {@link layerFromEnv}.
 *
 * @since 0.1.0
 */
export const layer = layerFromEnv
