/**
 * Numbered schema migrations, run with `@effect/sql`'s dialect-generic `Migrator` so the same list runs
 * on PostgreSQL and on PGlite (`PgMigrator` needs `PgClient` for its schema dumps).
 *
 * Concurrency: the whole run is one transaction that first takes a transaction-scoped advisory lock, so
 * any number of processes may migrate one database at start-up: the first does the work, the others
 * wait for its commit and then find nothing left to do. (The Migrator's own `LOCK TABLE` only guards
 * the runs, not the creation of its table, which two fresh processes would race on.)
 *
 * @since 0.1.0
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Rec from "effect/Record"
import { migrations as coreMigrations } from "./migrations/index.js"
import { freeradiusSchema } from "../radius/FreeradiusSchema.js"

/**
 * A record of migrations: keys `"<number>_<name>"`, values Effects needing only `SqlClient`.
 *
 * @since 0.1.0
 */
export type MigrationRecord = Record<string, Effect.Effect<unknown, unknown, SqlClient.SqlClient>>

/**
 * Table recording the core migrations.
 *
 * @since 0.1.0
 */
export const coreTable = "isp_schema_migrations"

/**
 * Table recording the FreeRADIUS schema migrations (a separate history, so enabling FreeRADIUS later
 * is not confused with the core numbering).
 *
 * @since 0.1.0
 */
export const freeradiusTable = "isp_freeradius_migrations"

// An arbitrary constant shared by every process migrating a database.
const ADVISORY_LOCK_KEY = 7_461_823_019

/**
 * Runs the migrations of `record` not yet recorded in `table` (default {@link coreTable}); returns the
 * `[id, name]` pairs it ran. Safe to call concurrently from several processes.
 *
 * @since 0.1.0
 */
export const migrateWith = Effect.fn("Migrations.migrateWith")(function*(
  record: MigrationRecord,
  options: { readonly table?: string } = {}
) {
  const sql = yield* SqlClient.SqlClient
  const table = options.table ?? coreTable
  const run = Migrator.make({})({
    loader: Migrator.fromRecord(Rec.map(record, Effect.asVoid)),
    table
  })
  return yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql.unsafe(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`)
    // Same definition the Migrator would create; created here, under the lock, so it cannot race.
    yield* sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      migration_id integer PRIMARY KEY,
      created_at timestamp with time zone NOT NULL DEFAULT now(),
      name text NOT NULL
    )`
    return yield* run
  }))
})

/**
 * Runs the core migrations (`migrations/index.ts`) and, with `freeradius: true`, the FreeRADIUS
 * `rlm_sql` schema. Idempotent; returns what it ran.
 *
 * @since 0.1.0
 */
export const migrate = Effect.fn("Migrations.migrate")(function*(
  options: { readonly freeradius?: boolean } = {}
) {
  const ran = yield* migrateWith(coreMigrations, { table: coreTable })
  if (options.freeradius !== true) return ran
  const radius = yield* migrateWith({ "0001_freeradius_schema": freeradiusSchema }, { table: freeradiusTable })
  return [...ran, ...radius]
})

/**
 * A Layer that migrates the database when built (after `Database.layer`, before repositories).
 *
 * @since 0.1.0
 */
export const layer = (
  options: { readonly freeradius?: boolean } = {}
): Layer.Layer<never, Migrator.MigrationError | SqlError, SqlClient.SqlClient> =>
  Layer.effectDiscard(migrate(options))
