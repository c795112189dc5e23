/**
 * In-memory {@link WorkflowRepository}. Claiming is one synchronous `Ref.modify` — the in-memory
 * equivalent of `FOR UPDATE SKIP LOCKED` — so two fibers can never take the same workflow while a
 * lease is live. "Now" is Effect's `Clock`, so tests drive leases with `TestClock`.
 *
 * @since 0.1.0
 */
import { Clock, DateTime, Effect, Layer, Option, Ref } from "effect"
import { Conflict } from "../domain/Errors.js"
import type { ServiceId, WorkflowId } from "../domain/Ids.js"
import { ProvisioningWorkflow } from "../domain/Workflow.js"
import type { FilterQuery } from "../filters/Ast.js"
import { runQuery } from "../filters/Evaluate.js"
import { WorkflowFilterSpec } from "../filters/specs/WorkflowFilterSpec.js"
import { LeaseLost, WorkflowRepository } from "../ports/WorkflowRepository.js"

interface State {
  readonly byId: Map<string, ProvisioningWorkflow>
  readonly byKey: Map<string, string>
}

const millis = DateTime.toEpochMillis

/** Whether some worker holds a lease that has not yet expired at `now`. */
const leased = (w: ProvisioningWorkflow, now: number) =>
  w.lockedBy !== null && w.lockedUntil !== null && millis(w.lockedUntil) > now

const isDue = (w: ProvisioningWorkflow, now: number) =>
  (w.status === "PENDING" || w.status === "RUNNING") && millis(w.nextRunAt) <= now && !leased(w, now)

/** Oldest first: by `createdAt`, then `id`. */
const byCreation = (a: ProvisioningWorkflow, b: ProvisioningWorkflow) =>
  millis(a.createdAt) - millis(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * Builds a fresh, empty repository.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<WorkflowRepository> = Effect.gen(function*() {
  // Mutated only inside synchronous `Ref.modify` callbacks, which makes each write atomic.
  const ref = yield* Ref.make<State>({ byId: new Map(), byKey: new Map() })

  const create = Effect.fn("MemoryWorkflowRepository.create")(function*(workflow: ProvisioningWorkflow) {
    const error = yield* Ref.modify(ref, (s): [Conflict | null, State] => {
      if (s.byId.has(workflow.id)) return [new Conflict({ field: "id", value: workflow.id }), s]
      if (workflow.idempotencyKey !== null && s.byKey.has(workflow.idempotencyKey)) {
        return [new Conflict({ field: "idempotencyKey", value: workflow.idempotencyKey }), s]
      }
      s.byId.set(workflow.id, workflow)
      if (workflow.idempotencyKey !== null) s.byKey.set(workflow.idempotencyKey, workflow.id)
      return [null, s]
    })
    if (error) return yield* error
  })

  const findById = (id: WorkflowId) =>
    Effect.map(Ref.get(ref), (s) => Option.fromNullable(s.byId.get(id))).pipe(
      Effect.withSpan("MemoryWorkflowRepository.findById")
    )

  const findByIdempotencyKey = (key: string) =>
    Effect.map(Ref.get(ref), (s) => {
      const id = s.byKey.get(key)
      return Option.fromNullable(id === undefined ? undefined : s.byId.get(id))
    }).pipe(Effect.withSpan("MemoryWorkflowRepository.findByIdempotencyKey"))

  const listForService = (serviceId: ServiceId) =>
    Effect.map(Ref.get(ref), (s) => {
      const out: Array<ProvisioningWorkflow> = []
      for (const w of s.byId.values()) if (w.serviceId === serviceId) out.push(w)
      return out.sort(byCreation)
    }).pipe(Effect.withSpan("MemoryWorkflowRepository.listForService"))

  const latestForServices = (ids: ReadonlyArray<ServiceId>) =>
    Effect.map(Ref.get(ref), (s) => {
      const wanted = new Set<string>(ids)
      const latest = new Map<string, ProvisioningWorkflow>()
      for (const w of s.byId.values()) {
        if (!wanted.has(w.serviceId)) continue
        const current = latest.get(w.serviceId)
        if (current === undefined || byCreation(current, w) < 0) latest.set(w.serviceId, w)
      }
      return [...latest.values()]
    }).pipe(Effect.withSpan("MemoryWorkflowRepository.latestForServices"))

  const claimDue = Effect.fn("MemoryWorkflowRepository.claimDue")(function*(options: {
    readonly workerId: string
    readonly leaseMillis: number
    readonly limit: number
  }) {
    const now = yield* Clock.currentTimeMillis
    const lockedUntil = DateTime.unsafeMake(now + options.leaseMillis)
    return yield* Ref.modify(ref, (s): [ReadonlyArray<ProvisioningWorkflow>, State] => {
      if (options.limit <= 0) return [[], s]
      const due: Array<ProvisioningWorkflow> = []
      for (const w of s.byId.values()) if (isDue(w, now)) due.push(w)
      // Longest-waiting first, like `ORDER BY next_run_at, id`.
      due.sort((a, b) => millis(a.nextRunAt) - millis(b.nextRunAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      const claimed = due.slice(0, options.limit).map((w) =>
        new ProvisioningWorkflow({ ...w, lockedBy: options.workerId, lockedUntil })
      )
      for (const w of claimed) s.byId.set(w.id, w)
      return [claimed, s]
    })
  })

  const save = Effect.fn("MemoryWorkflowRepository.save")(function*(workflow: ProvisioningWorkflow, workerId: string) {
    const now = yield* Clock.currentTimeMillis
    const held = yield* Ref.modify(ref, (s): [boolean, State] => {
      const stored = s.byId.get(workflow.id)
      if (stored === undefined || stored.lockedBy !== workerId || !leased(stored, now)) return [false, s]
      s.byId.set(workflow.id, workflow)
      if (stored.idempotencyKey !== null && stored.idempotencyKey !== workflow.idempotencyKey) {
        s.byKey.delete(stored.idempotencyKey)
      }
      if (workflow.idempotencyKey !== null) s.byKey.set(workflow.idempotencyKey, workflow.id)
      return [true, s]
    })
    if (!held) return yield* new LeaseLost({ workflowId: workflow.id, workerId })
  })

  const search = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => runQuery(WorkflowFilterSpec, query, s.byId.values())).pipe(
      Effect.withSpan("MemoryWorkflowRepository.search")
    )

  return WorkflowRepository.of({
    create,
    findById,
    findByIdempotencyKey,
    listForService,
    latestForServices,
    claimDue,
    save,
    search
  })
})

/**
 * A layer with a fresh, empty store.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<WorkflowRepository> = Layer.effect(WorkflowRepository, make)
