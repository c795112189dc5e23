/**
 * The example server's database: PGlite in memory (or in `PGLITE_DATA_DIR`), or PostgreSQL when
 * `DATABASE_URL` is set, migrated. Imported on its own (not through the package indexes) so
 * `main.ts` can start it while the rest of the program is still loading.
 */
import { Effect, Layer } from "effect"
import { Database, Migrations } from "@isp-framework/adapters"

/** A start-up phase log line with the milliseconds since the process started. */
export const startupPhase = (name: string) =>
  Effect.logInfo(`start-up: ${name}`).pipe(Effect.annotateLogs({ ms: Math.round(process.uptime() * 1000) }))

/** The database from the environment, migrated. */
export const DatabaseLive = Migrations.layer().pipe(
  Layer.tap(() => startupPhase("migrations applied")),
  Layer.provideMerge(Database.layerFromEnv.pipe(Layer.tap(() => startupPhase("database open"))))
)
