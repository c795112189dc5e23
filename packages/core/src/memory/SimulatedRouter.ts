/**
 * SimulatedRouter — an in-memory {@link RouterProvisioner} that keeps RouterOS-like tables per router
 * (PPP secrets, DHCP leases, simple queues, firewall address-list entries), each object tagged with
 * its service id in `comment` and given a RouterOS-style `.id`. `ensureService` is find-or-create /
 * update-or-skip (and removes duplicates), exactly what the real adapter must do, so tests can count
 * objects. Faults: fail or hang the next N calls. Tamper helpers inject drift.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { ServiceId } from "../domain/Ids.js"
import { RouterError, RouterProvisioner, type RouterServiceState } from "../ports/Network.js"
import { routerObjects } from "../workflows/Desired.js"
import { Faults } from "../workflows/internal/faults.js"

export type RouterTable = keyof RouterServiceState
export const routerTables: ReadonlyArray<RouterTable> = ["pppSecrets", "dhcpLeases", "queues", "addressListEntries"]

type Tables = { [K in RouterTable]: Array<Record<string, string>> }

export interface RouterCall {
  readonly operation: "ensureService" | "removeService" | "inspectService"
  readonly routerId: string
  readonly serviceId: string
}

export interface SimulatedRouter {
  /** A snapshot of one router's tables (every object, whatever its service). */
  readonly objects: (routerId: string) => Effect.Effect<RouterServiceState>
  /** Every router id that holds at least one object. */
  readonly routers: Effect.Effect<ReadonlyArray<string>>
  readonly calls: Effect.Effect<ReadonlyArray<RouterCall>>
  readonly failNext: (n: number, operation?: RouterCall["operation"]) => Effect.Effect<void>
  readonly hangNext: (n: number, operation?: RouterCall["operation"]) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** Adds an object behind the provisioner's back (drift injection). */
  readonly addObject: (routerId: string, table: RouterTable, object: Record<string, string>) => Effect.Effect<void>
  /** Removes objects matching `predicate` (drift injection); returns how many. */
  readonly removeObjects: (
    routerId: string,
    table: RouterTable,
    predicate: (o: Record<string, string>) => boolean
  ) => Effect.Effect<number>
  /** Changes fields of objects matching `predicate` (drift injection); returns how many. */
  readonly updateObjects: (
    routerId: string,
    table: RouterTable,
    predicate: (o: Record<string, string>) => boolean,
    patch: Record<string, string>
  ) => Effect.Effect<number>
}
export const SimulatedRouter = Context.GenericTag<SimulatedRouter>("@isp-framework/core/SimulatedRouter")

const sameFields = (have: Record<string, string>, want: Record<string, string>) =>
  Object.keys(want).every((k) => have[k] === want[k])

/**
 * Builds a simulator and the provisioner backed by it.
 *
 * @since 0.1.0
 */
export const make = Effect.sync(() => {
  const routers = new Map<string, Tables>()
  const calls: Array<RouterCall> = []
  const faults = new Faults()
  let nextId = 1
  const tablesOf = (routerId: string): Tables => {
    let t = routers.get(routerId)
    if (t === undefined) {
      t = { pppSecrets: [], dhcpLeases: [], queues: [], addressListEntries: [] }
      routers.set(routerId, t)
    }
    return t
  }
  const gate = (operation: RouterCall["operation"], routerId: string, serviceId: string) =>
    Effect.zipRight(
      Effect.sync(() => calls.push({ operation, routerId, serviceId })),
      faults.gate(operation, (reason) => new RouterError({ routerId, operation, reason }))
    )

  const provisioner = RouterProvisioner.of({
    ensureService: (routerId, spec) =>
      Effect.zipRight(
        gate("ensureService", routerId, spec.serviceId),
        Effect.sync(() => {
          const tables = tablesOf(routerId)
          const desired = routerObjects(spec)
          for (const table of routerTables) {
            const rows = tables[table]
            const wanted = desired[table]
            const mine = rows.filter((r) => r.comment === spec.serviceId)
            // Keep one existing object per wanted object (update-or-skip), create the missing, drop the rest.
            wanted.forEach((want, i) => {
              const have = mine[i]
              if (have === undefined) rows.push({ ".id": `*${(nextId++).toString(16).toUpperCase()}`, ...want })
              else if (!sameFields(have, want)) {
                for (const k of Object.keys(have)) if (k !== ".id" && !(k in want)) delete have[k]
                Object.assign(have, want)
              }
            })
            const extra = new Set(mine.slice(wanted.length))
            if (extra.size > 0) tables[table] = rows.filter((r) => !extra.has(r))
          }
        })
      ),
    removeService: (routerId, serviceId) =>
      Effect.zipRight(
        gate("removeService", routerId, serviceId),
        Effect.sync(() => {
          const tables = tablesOf(routerId)
          for (const table of routerTables) tables[table] = tables[table].filter((r) => r.comment !== serviceId)
        })
      ),
    inspectService: (routerId, serviceId: ServiceId) =>
      Effect.zipRight(
        gate("inspectService", routerId, serviceId),
        Effect.sync((): RouterServiceState => {
          const t = tablesOf(routerId)
          const pick = (rows: Array<Record<string, string>>) => rows.filter((r) => r.comment === serviceId).map((r) => ({ ...r }))
          return {
            pppSecrets: pick(t.pppSecrets),
            dhcpLeases: pick(t.dhcpLeases),
            queues: pick(t.queues),
            addressListEntries: pick(t.addressListEntries)
          }
        })
      )
  })

  const simulator: SimulatedRouter = {
    objects: (routerId) =>
      Effect.sync(() => {
        const t = tablesOf(routerId)
        const copy = (rows: Array<Record<string, string>>) => rows.map((r) => ({ ...r }))
        return {
          pppSecrets: copy(t.pppSecrets),
          dhcpLeases: copy(t.dhcpLeases),
          queues: copy(t.queues),
          addressListEntries: copy(t.addressListEntries)
        }
      }),
    routers: Effect.sync(() =>
      [...routers.entries()].filter(([, t]) => routerTables.some((k) => t[k].length > 0)).map(([id]) => id)
    ),
    calls: Effect.sync(() => [...calls]),
    failNext: (n, operation) => Effect.sync(() => faults.failNext(n, operation ?? null, "injected router failure")),
    hangNext: (n, operation) => Effect.sync(() => faults.hangNext(n, operation ?? null)),
    clearFaults: Effect.sync(() => faults.clear()),
    addObject: (routerId, table, object) =>
      Effect.sync(() => void tablesOf(routerId)[table].push({ ".id": `*${(nextId++).toString(16).toUpperCase()}`, ...object })),
    removeObjects: (routerId, table, predicate) =>
      Effect.sync(() => {
        const t = tablesOf(routerId)
        const before = t[table].length
        t[table] = t[table].filter((o) => !predicate(o))
        return before - t[table].length
      }),
    updateObjects: (routerId, table, predicate, patch) =>
      Effect.sync(() => {
        let n = 0
        for (const o of tablesOf(routerId)[table]) {
          if (predicate(o)) {
            Object.assign(o, patch)
            n++
          }
        }
        return n
      })
  }
  return { provisioner, simulator } as const
})

/**
 * Provides both `RouterProvisioner` and the `SimulatedRouter` control handle.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<RouterProvisioner | SimulatedRouter> = Layer.effectContext(
  Effect.map(make, ({ provisioner, simulator }) =>
    Context.make(RouterProvisioner, provisioner).pipe(Context.add(SimulatedRouter, simulator)))
)
