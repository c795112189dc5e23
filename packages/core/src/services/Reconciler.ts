/**
 * Reconciler — compares what the database says a service should have on the network (its status,
 * speeds, credentials, template and IP assignment → `Desired`) with what RADIUS and the router
 * actually hold, reports every difference as a typed {@link Drift}, and repairs it through the same
 * idempotent functions the workflow steps use. No scheduler: call `reconcileAll` from a CLI or a cron.
 *
 * Services with an unfinished workflow are skipped: their network state is legitimately in flux.
 *
 * @since 0.1.0
 */
import { Effect, Option, Schema } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import { ServiceNotFound } from "../domain/Errors.js"
import type { ServiceId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import type { FilterQuery, Page } from "../filters/Ast.js"
import { holdsResources } from "../lifecycle/Lifecycle.js"
import { IpAllocator } from "../ports/IpAllocator.js"
import { RadiusProvisioner, RouterProvisioner, type RouterServiceState } from "../ports/Network.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { WorkflowRepository } from "../ports/WorkflowRepository.js"
import {
  emptyRouterState,
  radiusRows,
  radiusSpec,
  radiusUsername,
  routerIdOf,
  routerObjects,
  routerSpec,
  SUSPENDED_GROUP
} from "../workflows/Desired.js"
import { IpAccess } from "../workflows/internal/ip.js"
import { StepFailed, syncIp, syncRadius, syncRouter } from "../workflows/Steps.js"
import { isTerminal } from "../workflows/WorkflowState.js"

const RouterTable = Schema.Literal("pppSecrets", "dhcpLeases", "queues", "addressListEntries")
const Fields = Schema.Record({ key: Schema.String, value: Schema.String })

/** One difference between the desired and the actual network state of a service. */
export const Drift = Schema.Union(
  Schema.TaggedStruct("RadiusUserMissing", { username: Schema.String }),
  Schema.TaggedStruct("RadiusUserUnexpected", { username: Schema.String }),
  Schema.TaggedStruct("RadiusAttributeMismatch", {
    username: Schema.String,
    table: Schema.Literal("check", "reply"),
    attribute: Schema.String,
    expected: Schema.NullOr(Schema.String),
    actual: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("RadiusGroupMismatch", {
    username: Schema.String,
    group: Schema.String,
    expectedMember: Schema.Boolean
  }),
  Schema.TaggedStruct("RouterObjectMissing", { routerId: Schema.String, table: RouterTable, expected: Fields }),
  Schema.TaggedStruct("RouterObjectUnexpected", { routerId: Schema.String, table: RouterTable, actual: Fields }),
  Schema.TaggedStruct("RouterObjectMismatch", {
    routerId: Schema.String,
    table: RouterTable,
    field: Schema.String,
    expected: Schema.NullOr(Schema.String),
    actual: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("IpMissing", { poolId: Schema.String }),
  Schema.TaggedStruct("IpHeld", { addresses: Schema.Array(Schema.String) })
)
export type Drift = typeof Drift.Type

/** The outcome of checking one service. */
export class ReconcileReport extends Schema.Class<ReconcileReport>("ReconcileReport")({
  serviceId: Schema.String,
  status: Schema.String,
  /** Why the service was not checked (e.g. a workflow is in progress); null when it was. */
  skipped: Schema.NullOr(Schema.String),
  drift: Schema.Array(Drift)
}) {
  get inSync(): boolean {
    return this.skipped === null && this.drift.length === 0
  }
}

/** `repair`'s answer: the drift found, and what is left after re-applying. */
export interface RepairResult {
  readonly before: ReconcileReport
  readonly after: ReconcileReport
}

/** `reconcileAll`'s answer. */
export interface ReconcileSummary {
  readonly checked: number
  readonly skipped: number
  /** Reports of services that had drift (before any repair). */
  readonly drifted: ReadonlyArray<ReconcileReport>
  /** Services still drifting after repair (empty when `repair` was not asked for or all succeeded). */
  readonly unrepaired: ReadonlyArray<ReconcileReport>
  readonly failures: ReadonlyArray<{ readonly serviceId: string; readonly error: string }>
}

/** RADIUS attributes the framework owns; others (added by the ISP) are left alone. */
const OWNED_CHECK = ["Cleartext-Password", "Auth-Type"]
const OWNED_REPLY = ["Framed-IP-Address", "Framed-IPv6-Prefix", "Delegated-IPv6-Prefix", "Mikrotik-Rate-Limit", "Session-Timeout"]

type Row = { readonly attribute: string; readonly value: string }
const valueOf = (rows: ReadonlyArray<Row>, attribute: string) => rows.find((r) => r.attribute === attribute)?.value ?? null

/** Router objects: expected vs actual, table by table, on the fields we set (`.id` etc. ignored). */
export const routerDrift = (routerId: string, expected: RouterServiceState, actual: RouterServiceState): Array<Drift> => {
  const out: Array<Drift> = []
  for (const table of ["pppSecrets", "dhcpLeases", "queues", "addressListEntries"] as const) {
    const want = expected[table]
    const have = actual[table]
    want.forEach((w, i) => {
      const h = have[i]
      if (h === undefined) {
        out.push({ _tag: "RouterObjectMissing", routerId, table, expected: { ...w } })
        return
      }
      for (const field of Object.keys(w)) {
        if (h[field] !== w[field]) {
          out.push({ _tag: "RouterObjectMismatch", routerId, table, field, expected: w[field] ?? null, actual: h[field] ?? null })
        }
      }
    })
    for (const extra of have.slice(want.length)) out.push({ _tag: "RouterObjectUnexpected", routerId, table, actual: { ...extra } })
  }
  return out
}

export class Reconciler extends Effect.Service<Reconciler>()("@isp-framework/core/Reconciler", {
  effect: Effect.gen(function*() {
    const services = yield* ServiceRepository
    const templates = yield* TemplateRepository
    const workflows = yield* WorkflowRepository
    const radius = yield* RadiusProvisioner
    const router = yield* RouterProvisioner
    const allocator = yield* IpAllocator
    const ip = yield* IpAccess
    const ports = yield* Effect.context<RadiusProvisioner | RouterProvisioner | IpAllocator>()

    const load = (id: ServiceId) =>
      Effect.gen(function*() {
        const found = yield* services.findById(id)
        if (Option.isNone(found)) return yield* new ServiceNotFound({ serviceId: id })
        const template = Option.getOrNull(yield* templates.findById(found.value.templateId))
        return { service: found.value, template }
      })

    const diff = (service: CustomerService, template: ServiceTemplate | null) =>
      Effect.gen(function*() {
        const drift: Array<Drift> = []
        const username = radiusUsername(service)
        const routerId = routerIdOf(service)
        const addresses = yield* ip.addressesOf(service)
        const live = yield* allocator.findByService(service.id)
        const actualRadius = yield* radius.inspectUser(username)
        const actualRouter = yield* router.inspectService(routerId, service.id)

        if (holdsResources(service.status)) {
          const poolId = template?.internet?.ipPoolId ?? null
          if (poolId !== null && !live.some((a) => a.poolId === poolId)) drift.push({ _tag: "IpMissing", poolId })
          const expected = radiusRows(radiusSpec(service, template, addresses))
          if (actualRadius === null) drift.push({ _tag: "RadiusUserMissing", username })
          else {
            for (const attribute of OWNED_CHECK) {
              const e = valueOf(expected.check, attribute)
              const a = valueOf(actualRadius.check, attribute)
              if (e !== a) drift.push({ _tag: "RadiusAttributeMismatch", username, table: "check", attribute, expected: e, actual: a })
            }
            for (const attribute of OWNED_REPLY) {
              const e = valueOf(expected.reply, attribute)
              const a = valueOf(actualRadius.reply, attribute)
              if (e !== a) drift.push({ _tag: "RadiusAttributeMismatch", username, table: "reply", attribute, expected: e, actual: a })
            }
            const want = expected.groups.includes(SUSPENDED_GROUP)
            if (want !== actualRadius.groups.includes(SUSPENDED_GROUP)) {
              drift.push({ _tag: "RadiusGroupMismatch", username, group: SUSPENDED_GROUP, expectedMember: want })
            }
          }
          drift.push(...routerDrift(routerId, routerObjects(routerSpec(service, template, addresses)), actualRouter))
        } else {
          if (live.length > 0) drift.push({ _tag: "IpHeld", addresses: live.map((a) => a.address) })
          if (actualRadius !== null) {
            // The user name may since belong to a new live service; then those rows are not ours.
            const holder = yield* services.findByUsername(username)
            if (Option.isNone(holder) || holder.value.id === service.id) drift.push({ _tag: "RadiusUserUnexpected", username })
          }
          drift.push(...routerDrift(routerId, emptyRouterState, actualRouter))
        }
        return drift
      })

    /** Reports the drift of one service (skipped while a workflow is in progress). */
    const check = Effect.fn("Reconciler.check")(function*(id: ServiceId) {
      const { service, template } = yield* load(id)
      const pending = (yield* workflows.listForService(id)).find((w) => !isTerminal(w.status))
      if (pending !== undefined) {
        return new ReconcileReport({
          serviceId: id,
          status: service.status,
          skipped: `${pending.kind} workflow ${pending.id} is ${pending.status}`,
          drift: []
        })
      }
      return new ReconcileReport({ serviceId: id, status: service.status, skipped: null, drift: yield* diff(service, template) })
    })

    /** Re-applies the desired state where it drifted (IP first, then RADIUS, then router) and checks again. */
    const repair = Effect.fn("Reconciler.repair")(function*(id: ServiceId) {
      const before = yield* check(id)
      if (before.skipped !== null || before.drift.length === 0) return { before, after: before } satisfies RepairResult
      const { service, template } = yield* load(id)
      const tags = new Set(before.drift.map((d) => d._tag))
      const has = (prefix: string) => [...tags].some((t) => t.startsWith(prefix))
      const step = (name: string) => (e: { readonly message: string }) => new StepFailed({ step: name, reason: e.message, retryable: true })
      if (tags.has("IpMissing") || tags.has("IpHeld")) {
        yield* syncIp(service, template).pipe(Effect.mapError(step("repair_ip")), Effect.provide(ports))
      }
      const addresses = yield* ip.addressesOf(service)
      if (has("Radius") || tags.has("IpMissing")) {
        yield* syncRadius(service, template, addresses).pipe(Effect.mapError(step("repair_radius")), Effect.provide(ports))
      }
      if (has("Router") || tags.has("IpMissing")) {
        yield* syncRouter(service, template, addresses).pipe(Effect.mapError(step("repair_router")), Effect.provide(ports))
      }
      const after = yield* check(id)
      return { before, after } satisfies RepairResult
    })

    /**
     * Checks (and with `repair: true` repairs) every service matching `query`, a page at a time in id
     * order (the query's own order and cursor are replaced).
     */
    const reconcileAll = Effect.fn("Reconciler.reconcileAll")(function*(
      query: FilterQuery,
      options: { readonly repair?: boolean | undefined; readonly pageSize?: number | undefined } = {}
    ) {
      let checked = 0
      let skipped = 0
      const drifted: Array<ReconcileReport> = []
      const unrepaired: Array<ReconcileReport> = []
      const failures: Array<{ serviceId: string; error: string }> = []
      let cursor: FilterQuery["cursor"] = null
      for (;;) {
        const page: Page<CustomerService> = yield* services.search({ ...query, orderBy: [], cursor, limit: options.pageSize ?? 100 })
        for (const s of page.items) {
          const outcome = yield* (options.repair === true
            ? repair(s.id)
            : Effect.map(check(s.id), (r): RepairResult => ({ before: r, after: r }))).pipe(Effect.either)
          if (outcome._tag === "Left") {
            failures.push({ serviceId: s.id, error: outcome.left.message })
            continue
          }
          checked++
          const { before, after } = outcome.right
          if (before.skipped !== null) skipped++
          if (before.drift.length > 0) drifted.push(before)
          if (options.repair === true && after.drift.length > 0) unrepaired.push(after)
        }
        if (page.nextCursor === null || page.items.length === 0) break
        cursor = { values: [], id: page.items[page.items.length - 1]!.id }
      }
      return { checked, skipped, drifted, unrepaired, failures } satisfies ReconcileSummary
    })

    return { check, repair, reconcileAll } as const
  })
}) {}
