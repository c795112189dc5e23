/**
 * The core `RouterProvisioner` port on MikroTik RouterOS.
 *
 * Per service the router holds: a `/ppp/secret` (PPPoE) or an `/ip/dhcp-server/lease` (DHCP), a
 * `/queue/simple` `svc-<serviceNumber>` for its address, and — while FULL-suspended — an
 * `/ip/firewall/address-list` entry on the suspended list. Every object we create carries
 * `comment=isp:<serviceId>`: that comment, not a name, is its identity, so renames never orphan it.
 *
 * `ensureService` is find-or-create / update-or-skip: it prints the tagged objects, adopts an untagged
 * object with the same natural key (so a hand-made queue is taken over, not duplicated), removes extra
 * duplicates, and `set`s only the properties that differ — a second run sends no `set` and no `add`.
 *
 * @since 0.1.0
 */
import type { RouterServiceSpec, RouterServiceState, ServiceId } from "@isp-framework/core"
import { RouterProvisioner } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { DesiredObject, ManagedPath } from "./internal/desired.js"
import { desiredState, differences, PATHS } from "./internal/desired.js"
import type { Row, RouterOsRouters, RouterOsSession } from "./RouterOsClient.js"
import * as RouterOsClient from "./RouterOsClient.js"
import type { RouterOsError } from "./RouterOsErrors.js"
import { RouterSpecInvalid, toRouterError } from "./RouterOsErrors.js"

/**
 * @since 0.1.0
 */
export interface RouterOsProvisionerOptions {
  /** Address list of FULL-suspended subscribers (the walled garden). Default `suspended`. */
  readonly suspendedList?: string | undefined
  /** Prefix of the identity comment. Default `isp:`. */
  readonly commentPrefix?: string | undefined
  /**
   * Reruns of a whole operation after the connection broke mid-way (`RouterUnreachable`); each rerun
   * takes a fresh connection and, being idempotent, completes what the broken one started. Default 1.
   */
  readonly reconnectRetries?: number | undefined
}

/** The identity comment of a service's objects. */
export const serviceComment = (serviceId: string, prefix = "isp:"): string => `${prefix}${serviceId}`

const printTagged = (session: RouterOsSession, path: string, comment: string) =>
  session.command(`${path}/print`, [`?comment=${comment}`])

/** The IPv6 menu may not exist on the router (no IPv6 package): treat "no such command" as empty. */
const printTaggedOptional = (session: RouterOsSession, path: string, comment: string) =>
  printTagged(session, path, comment).pipe(
    Effect.catchIf(
      (e): e is Extract<RouterOsError, { _tag: "RouterTrap" }> =>
        e._tag === "RouterTrap" && /no such command/.test(e.message),
      () => Effect.succeed<ReadonlyArray<Row>>([])
    )
  )

const removeRows = (session: RouterOsSession, path: string, rows: ReadonlyArray<Row>) =>
  Effect.forEach(rows, (row) => session.command(`${path}/remove`, [`=.id=${row[".id"]}`]), { discard: true })

/** Brings one object of one path to its desired state. */
const reconcile = (session: RouterOsSession, object: DesiredObject, comment: string, prefix: string) =>
  Effect.gen(function*() {
    const wanted = { ...object.fields, comment }
    const tagged = yield* printTagged(session, object.path, comment)
    // Keep the closest match among duplicates; remove the rest first (they may hold the name we set).
    const ranked = [...tagged].sort((a, b) => differences(a, wanted).length - differences(b, wanted).length)
    let keep: Row | undefined = ranked[0]
    yield* removeRows(session, object.path, ranked.slice(1))
    if (keep === undefined) {
      const candidates = yield* session.command(
        `${object.path}/print`,
        Object.entries(object.adoptBy).map(([k, v]) => `?${k}=${v}`)
      )
      keep = candidates.find((row) => !(row.comment ?? "").startsWith(prefix) && row.dynamic !== "true")
    }
    if (keep === undefined) {
      yield* session.command(`${object.path}/add`, Object.entries(wanted).map(([k, v]) => `=${k}=${v}`))
      return
    }
    const diff = differences(keep, wanted)
    if (diff.length > 0) {
      yield* session.command(`${object.path}/set`, [`=.id=${keep[".id"]}`, ...diff.map(([k, v]) => `=${k}=${v}`)])
    }
  })

/**
 * Builds the port over a {@link RouterOsClient.RouterOsClient}.
 *
 * @since 0.1.0
 */
export const make = (
  options: RouterOsProvisionerOptions = {}
): Effect.Effect<RouterProvisioner, never, RouterOsClient.RouterOsClient> =>
  Effect.gen(function*() {
    const client = yield* RouterOsClient.RouterOsClient
    const prefix = options.commentPrefix ?? "isp:"
    const suspendedList = options.suspendedList ?? "suspended"
    const retries = Math.max(0, options.reconnectRetries ?? 1)

    const withRetry = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
      self.pipe(Effect.retry({ times: retries, while: (e) => e._tag === "RouterUnreachable" }))

    const ensureService = Effect.fn("RouterOsProvisioner.ensureService")(function*(
      routerId: string,
      spec: RouterServiceSpec
    ) {
      const desired = desiredState(spec, { suspendedList })
      if (typeof desired === "string") {
        return yield* Effect.fail(new RouterSpecInvalid({ routerId, serviceId: spec.serviceId, reason: desired }))
      }
      const comment = serviceComment(spec.serviceId, prefix)
      yield* Effect.annotateCurrentSpan({ routerId, serviceId: spec.serviceId })
      yield* withRetry(client.withConnection(routerId, (session) =>
        // Each managed path holds at most one of the service's objects, so the paths are reconciled
        // concurrently: RouterOS tags the commands and answers them on the one connection, and the
        // step costs about one round trip per path depth instead of one per command.
        Effect.all([
          Effect.forEach(desired.objects, (object) => reconcile(session, object, comment, prefix), {
            concurrency: "unbounded",
            discard: true
          }),
          Effect.forEach(desired.absent, (path) => Effect.flatMap(printTagged(session, path, comment), (rows) => removeRows(session, path, rows)), {
            concurrency: "unbounded",
            discard: true
          })
        ], { concurrency: "unbounded", discard: true })))
    }, (effect, routerId) => Effect.mapError(effect, toRouterError(routerId, "ensureService")))

    const tagged = (session: RouterOsSession, comment: string) =>
      Effect.all({
        pppSecrets: printTagged(session, PATHS.pppSecret, comment),
        dhcpLeases: printTagged(session, PATHS.dhcpLease, comment),
        queues: printTagged(session, PATHS.queue, comment),
        addressListEntries: Effect.zipWith(
          printTagged(session, PATHS.addressList, comment),
          printTaggedOptional(session, PATHS.addressList6, comment),
          (v4, v6) => [...v4, ...v6]
        )
      })

    const removeService = Effect.fn("RouterOsProvisioner.removeService")(function*(
      routerId: string,
      serviceId: ServiceId
    ) {
      const comment = serviceComment(serviceId, prefix)
      yield* withRetry(client.withConnection(routerId, (session) =>
        Effect.gen(function*() {
          const state = yield* tagged(session, comment)
          const v6 = state.addressListEntries.filter((r) => r.address?.includes(":"))
          const v4 = state.addressListEntries.filter((r) => !r.address?.includes(":"))
          const plan: ReadonlyArray<readonly [ManagedPath, ReadonlyArray<Row>]> = [
            [PATHS.addressList, v4],
            [PATHS.addressList6, v6],
            [PATHS.queue, state.queues],
            [PATHS.dhcpLease, state.dhcpLeases],
            [PATHS.pppSecret, state.pppSecrets]
          ]
          for (const [path, rows] of plan) yield* removeRows(session, path, rows)
        })))
    }, (effect, routerId) => Effect.mapError(effect, toRouterError(routerId, "removeService")))

    const inspectService = Effect.fn("RouterOsProvisioner.inspectService")(function*(
      routerId: string,
      serviceId: ServiceId
    ) {
      const comment = serviceComment(serviceId, prefix)
      const state: RouterServiceState = yield* withRetry(
        client.withConnection(routerId, (session) => tagged(session, comment))
      )
      return state
    }, (effect, routerId) => Effect.mapError(effect, toRouterError(routerId, "inspectService")))

    return RouterProvisioner.of({ ensureService, removeService, inspectService })
  })

/**
 * The port over RouterOS, with its own connection pools (closed with the layer).
 *
 * @since 0.1.0
 */
export const layer = (
  routers: RouterOsRouters,
  options: RouterOsProvisionerOptions = {}
): Layer.Layer<RouterProvisioner> =>
  Layer.effect(RouterProvisioner, make(options)).pipe(Layer.provide(RouterOsClient.layer(routers)))

/**
 * The port over an existing {@link RouterOsClient.RouterOsClient} (to share pools with other code).
 *
 * @since 0.1.0
 */
export const layerFromClient = (
  options: RouterOsProvisionerOptions = {}
): Layer.Layer<RouterProvisioner, never, RouterOsClient.RouterOsClient> => Layer.effect(RouterProvisioner, make(options))
