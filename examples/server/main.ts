/**
 * The bundled example server (`npm start`): the v1 API on the embedded PGlite (or PostgreSQL with
 * `DATABASE_URL`), migrated and seeded with demo data, the workflow worker in-process, and simulated
 * RADIUS / RouterOS / NAS adapters that log what they would do (see Stack.ts for the real ones).
 *
 * Environment: PORT (default 3000), DATABASE_URL, PGLITE_DATA_DIR, ISP_ADMIN_TOKEN, LOG_FORMAT=pretty,
 * ROUTEROS_HOST/_PORT/_USER/_PASSWORD, RADIUS_SQL, RADIUS_NAS_HOST/_PORT/_SECRET.
 * SIGTERM / SIGINT: stop accepting, drain in-flight requests, let the worker finish its current step.
 *
 * Start-up: PGlite's initdb (seconds of WASM) starts first, and the rest of the program (App.ts)
 * loads and compiles meanwhile; each phase is logged with its milliseconds since process start.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Fiber, Layer, Logger, LogLevel } from "effect"
import { DatabaseLive, startupPhase } from "./Database.js"

const Main = Layer.unwrapScoped(Effect.gen(function*() {
  yield* startupPhase("database starting")
  const database = yield* Effect.forkScoped(Layer.build(DatabaseLive))
  const app = yield* Effect.promise(() => import("./App.js"))
  yield* startupPhase("program loaded")
  const context = yield* Fiber.join(database)
  return app.Main.pipe(Layer.provide(Layer.succeedContext(context)))
}))

const LoggerLive = Layer.unwrapEffect(Effect.map(
  Config.withDefault(Config.string("LOG_FORMAT"), "json"),
  (format) => Layer.mergeAll(format === "pretty" ? Logger.pretty : Logger.json, Logger.minimumLogLevel(LogLevel.Info))
))

Layer.launch(Main).pipe(
  Effect.provide(LoggerLive),
  // Our own logger only (the runtime's pretty logger would print every line twice).
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
