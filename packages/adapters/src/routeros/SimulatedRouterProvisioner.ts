/**
 * A `RouterProvisioner` that talks to no router: it logs what it would configure and keeps the
 * resulting objects in memory, computed by the same rules as the RouterOS adapter (so `inspectService`
 * returns what a router would hold). For the example server, demos and tests without a router.
 *
 * @since 0.1.0
 */
import type { RouterServiceState, ServiceId } from "@isp-framework/core"
import { RouterError, RouterProvisioner } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { desiredState, PATHS } from "./internal/desired.js"
import { serviceComment } from "./RouterOsProvisioner.js"

/**
 * @since 0.1.0
 */
export interface SimulatedRouterOptions {
  readonly suspendedList?: string | undefined
  /** Routers that exist; any other id fails like an unknown router. Omitted: every id exists. */
  readonly routers?: ReadonlyArray<string> | undefined
}

const empty: RouterServiceState = { pppSecrets: [], dhcpLeases: [], queues: [], addressListEntries: [] }

/**
 * Builds the simulated port (state lives as long as the returned service).
 *
 * @since 0.1.0
 */
export const make = (options: SimulatedRouterOptions = {}): Effect.Effect<RouterProvisioner> =>
  Effect.sync(() => {
    const state = new Map<string, RouterServiceState>()
    const suspendedList = options.suspendedList ?? "suspended"
    let ids = 0
    const key = (routerId: string, serviceId: string) => `${routerId}\u0000${serviceId}`
    const check = (routerId: string, operation: string) =>
      options.routers === undefined || options.routers.includes(routerId)
        ? Effect.void
        : Effect.fail(new RouterError({ routerId, operation, reason: "RouterNotConfigured: unknown router" }))

    return RouterProvisioner.of({
      ensureService: Effect.fn("SimulatedRouterProvisioner.ensureService")(function*(routerId, spec) {
        yield* check(routerId, "ensureService")
        const desired = desiredState(spec, { suspendedList })
        if (typeof desired === "string") {
          return yield* Effect.fail(
            new RouterError({ routerId, operation: "ensureService", reason: `RouterSpecInvalid: ${desired}` })
          )
        }
        const comment = serviceComment(spec.serviceId)
        const previous = state.get(key(routerId, spec.serviceId)) ?? empty
        const rows = (path: string, old: ReadonlyArray<Record<string, string>>) =>
          desired.objects.filter((o) => o.path === path).map((o, i) => ({
            ".id": old[i]?.[".id"] ?? `*${(++ids).toString(16).toUpperCase()}`,
            ...o.fields,
            comment
          }))
        const next: RouterServiceState = {
          pppSecrets: rows(PATHS.pppSecret, previous.pppSecrets),
          dhcpLeases: rows(PATHS.dhcpLease, previous.dhcpLeases),
          queues: rows(PATHS.queue, previous.queues),
          addressListEntries: [
            ...rows(PATHS.addressList, previous.addressListEntries),
            ...rows(PATHS.addressList6, [])
          ]
        }
        state.set(key(routerId, spec.serviceId), next)
        yield* Effect.logInfo("simulated router: ensureService").pipe(
          Effect.annotateLogs({
            routerId,
            serviceId: spec.serviceId,
            objects: desired.objects.map((o) => `${o.path} ${JSON.stringify(o.fields)}`).join("; ")
          })
        )
      }),
      removeService: Effect.fn("SimulatedRouterProvisioner.removeService")(function*(routerId, serviceId: ServiceId) {
        yield* check(routerId, "removeService")
        state.delete(key(routerId, serviceId))
        yield* Effect.logInfo("simulated router: removeService").pipe(Effect.annotateLogs({ routerId, serviceId }))
      }),
      inspectService: Effect.fn("SimulatedRouterProvisioner.inspectService")(function*(routerId, serviceId: ServiceId) {
        yield* check(routerId, "inspectService")
        return state.get(key(routerId, serviceId)) ?? empty
      })
    })
  })

/**
 * The simulated port as a layer.
 *
 * @since 0.1.0
 */
export const layer = (options: SimulatedRouterOptions = {}): Layer.Layer<RouterProvisioner> =>
  Layer.effect(RouterProvisioner, make(options))
