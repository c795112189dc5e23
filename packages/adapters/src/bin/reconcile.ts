/**
 * Reconciler CLI: checks (and with `--repair` repairs) every service matching a filter dict against
 * what RADIUS and the routers hold, prints a JSON summary, and exits 1 when drift remains or a check
 * failed (so cron / CI can alert on it).
 *
 * ```sh
 * DATABASE_URL=postgres://... ROUTEROS_ROUTERS='{"bng-1":{"host":"10.0.0.1","user":"api","password":"..."}}' \
 *   npx tsx packages/adapters/src/bin/reconcile.ts [--repair] [--page-size=N] [status=ACTIVE] [router_id=bng-1] ...
 * ```
 *
 * Database: `DATABASE_URL` (else an embedded PGlite, see `Database.ts`); network: `NetworkLayer.layerConfig`
 * (`RADIUS_MODE`, `ROUTEROS_ROUTERS`, `NAS_REGISTRY`). Filter keys are the service filter dict's.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { FilterDict, Reconciler } from "@isp-framework/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ProvisioningLayer from "../layers/ProvisioningLayer.js"
import * as NetworkLayer from "../layers/NetworkLayer.js"
import * as Database from "../postgres/Database.js"

/**
 * Parsed command line.
 *
 * @since 0.1.0
 */
export interface Arguments {
  readonly repair: boolean
  readonly pageSize: number
  readonly filter: Readonly<Record<string, string>>
}

/**
 * Parses `[--repair] [--page-size=N] [key=value ...]`.
 *
 * @since 0.1.0
 */
export const parseArguments = (argv: ReadonlyArray<string>): Arguments | string => {
  let repair = false
  let pageSize = 100
  const filter: Record<string, string> = {}
  for (const arg of argv) {
    if (arg === "--repair") repair = true
    else if (arg.startsWith("--page-size=")) {
      pageSize = Number(arg.slice("--page-size=".length))
      if (!Number.isInteger(pageSize) || pageSize < 1) return `invalid ${arg}`
    } else if (arg.startsWith("--")) return `unknown option ${arg}`
    else {
      const eq = arg.indexOf("=")
      if (eq <= 0) return `expected key=value, got ${arg}`
      filter[arg.slice(0, eq)] = arg.slice(eq + 1)
    }
  }
  return { repair, pageSize, filter }
}

const program = Effect.gen(function*() {
  const args = parseArguments(process.argv.slice(2))
  if (typeof args === "string") {
    yield* Console.error(`reconcile: ${args}\nusage: reconcile [--repair] [--page-size=N] [key=value ...]`)
    return 2
  }
  const query = yield* FilterDict.parse(FilterDict.ServiceFilterSpec, args.filter)
  const summary = yield* (yield* Reconciler.Reconciler).reconcileAll(query, { repair: args.repair, pageSize: args.pageSize })
  yield* Console.log(JSON.stringify(summary, null, 2))
  const remaining = args.repair ? summary.unrepaired.length : summary.drifted.length
  return remaining > 0 || summary.failures.length > 0 ? 1 : 0
})

const App = Layer.unwrapEffect(Effect.map(NetworkLayer.optionsConfig, (network) => ProvisioningLayer.layer(network))).pipe(
  Layer.provide(Database.layerFromEnv)
)

NodeRuntime.runMain(
  program.pipe(
    Effect.provide(App),
    Effect.flatMap((code) => Effect.sync(() => (process.exitCode = code)))
  )
)
