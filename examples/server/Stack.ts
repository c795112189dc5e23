/**
 * The example server's composition, shared by `main.ts` and the HTTP benchmark: database (PGlite or
 * PostgreSQL) + migrations, Postgres repositories, core use-cases, workflow engine, and the network
 * side — simulated adapters that log what they would do, unless `ROUTEROS_*` / `RADIUS_*` point at
 * real ones.
 */
import { BillingHooksNoop, NasSessionControl, RadiusProvisioner, RouterProvisioner, ServiceCatalog, ServiceLifecycle, ServiceProvisioning, ServiceQuery, SimulatedNas, SimulatedRadius, SimulatedRouter, ServiceAlerts, ServiceUsage, WorkflowEngine } from "@isp-framework/core"
import { Config, Effect, Layer, Option } from "effect"
import { CanonicalRouter, NasSessionControlLive, PgUsageStore, PostgresLayer, RouterOsProvisioner, SqlRadiusProvisioner } from "@isp-framework/adapters"

/** Repositories, tokens, the IP allocator and a SQL transactor, all over `SqlClient`. */
export const PgPorts = Layer.merge(PostgresLayer.layer, PgUsageStore.layer())

export { DatabaseLive, startupPhase } from "./Database.js"

// --- network side ---------------------------------------------------------------------------------

/** What a simulated call is about: a router id, a RADIUS user name or a NAS, for the log line. */
const targetOf = (arg: unknown): string => {
  if (typeof arg === "string") return arg
  const fields = (arg ?? {}) as { readonly username?: unknown; readonly nasId?: unknown }
  return String(fields.username ?? fields.nasId ?? "")
}

const logged = <S extends Record<string, any>>(name: string, service: S): S =>
  Object.fromEntries(
    Object.entries(service).map(([k, f]) => [
      k,
      typeof f === "function"
        ? (...args: Array<unknown>) =>
          Effect.zipRight(
            Effect.logInfo(`[simulated ${name}] ${k}`).pipe(
              Effect.annotateLogs({ target: targetOf(args[0]) })
            ),
            f(...args)
          )
        : f
    ])
  ) as S

const simulatedRadius = Layer.effect(RadiusProvisioner, Effect.map(RadiusProvisioner, (r) => logged("RADIUS", r))).pipe(
  Layer.provide(SimulatedRadius.layer)
)
const simulatedRouter = Layer.effect(RouterProvisioner, Effect.map(RouterProvisioner, (r) => logged("RouterOS", r))).pipe(
  Layer.provide(SimulatedRouter.layer)
)
const simulatedNas = Layer.effect(NasSessionControl, Effect.map(NasSessionControl, (r) => logged("NAS", r))).pipe(
  Layer.provide(SimulatedNas.layer)
)

/** `ROUTEROS_HOST` (+ `_PORT`, `_USER`, `_PASSWORD`, `_ROUTER_ID`) → a real RouterOS; else simulated. */
const RouterLive = Layer.unwrapEffect(Effect.gen(function*() {
  const host = yield* Config.option(Config.string("ROUTEROS_HOST"))
  if (Option.isNone(host)) return simulatedRouter
  const port = yield* Config.option(Config.integer("ROUTEROS_PORT"))
  const user = yield* Config.withDefault(Config.string("ROUTEROS_USER"), "admin")
  const password = yield* Config.withDefault(Config.string("ROUTEROS_PASSWORD"), "")
  yield* Effect.logInfo(`RouterOS at ${host.value}`)
  // CanonicalRouter: the reconciler compares what the router holds in the library's spelling.
  return CanonicalRouter.layer(RouterOsProvisioner.layer(() =>
    Effect.succeed({ host: host.value, user, password, port: Option.getOrUndefined(port) })
  ))
}))

/**
 * `RADIUS_SQL=true` → FreeRADIUS rows in this database; `RADIUS_NAS_HOST` + `RADIUS_NAS_SECRET`
 * (+ `RADIUS_NAS_PORT`, default 3799) → real CoA / Disconnect; each else simulated.
 */
const RadiusLive = Layer.unwrapEffect(Effect.gen(function*() {
  const sqlRows = yield* Config.withDefault(Config.boolean("RADIUS_SQL"), false)
  return sqlRows ? SqlRadiusProvisioner.layer : simulatedRadius
}))
const NasLive = Layer.unwrapEffect(Effect.gen(function*() {
  const host = yield* Config.option(Config.string("RADIUS_NAS_HOST"))
  if (Option.isNone(host)) return simulatedNas
  const secret = yield* Config.string("RADIUS_NAS_SECRET")
  const port = yield* Config.withDefault(Config.integer("RADIUS_NAS_PORT"), 3799)
  return NasSessionControlLive.layer(() => Effect.succeed({ host: host.value, port, secret }))
}))

export const NetworkLive = Layer.mergeAll(RouterLive, RadiusLive, NasLive, BillingHooksNoop)

/** Use-cases + engine over the Postgres ports and the network side. */
export const UseCasesLive = Layer.mergeAll(
  ServiceQuery.Default,
  ServiceProvisioning.Default,
  ServiceCatalog.Default,
  ServiceLifecycle.Default,
  WorkflowEngine.Default,
  ServiceUsage.Default,
  ServiceAlerts.Default
).pipe(Layer.provideMerge(PgPorts), Layer.provideMerge(NetworkLive))
