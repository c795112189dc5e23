/**
 * UsageRuntime — the background half of usage tracking, wired once for an application:
 *
 * - every durable accounting batch goes on to `FupEnforcer.afterIngest` (quota alerts, Smart FUP
 *   speed changes, prepaid suspension) — pass {@link UsageRuntime.onIngested} to an ingest source,
 *   or let {@link make} start the `AccountingServer` with it already wired. Enforcement runs in its
 *   own fiber: `onIngested` only queues the result, so the ingest path never waits for the
 *   enforcer's per-service reads. Results queued while the enforcer is busy are merged into one
 *   (deltas concatenated, services de-duplicated), which `afterIngest` treats exactly like the
 *   separate batches;
 * - a scoped fiber sweeps on a `Schedule`: `ServiceUsage.closeStale` (sessions that went silent),
 *   `ServiceAlerts.check` (SLA breaches, pools nearly exhausted) and `FupEnforcer.tick` (a new
 *   billing period restores plan speed; top-ups resume). Each step's failure is logged and the
 *   sweep goes on; closing the scope stops the fiber (and the server).
 *
 * ```ts
 * const Runtime = UsageRuntime.layer({ sweep: Schedule.spaced("1 minute"), accounting: { port: 1813, secretFor } })
 * ```
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Queue, Ref, Schedule } from "effect"
import type * as Scope from "effect/Scope"
import { FupEnforcer, type IngestResult, ServiceAlerts, ServiceUsage } from "@isp-framework/core"
import * as AccountingServer from "../radius/AccountingServer.js"

/** Options of {@link make}. */
export interface UsageRuntimeOptions {
  /** When to sweep. Default `Schedule.spaced("1 minute")` (the first sweep runs at start). */
  readonly sweep?: Schedule.Schedule<unknown> | undefined
  /** Start an `AccountingServer` with this configuration, its `onIngested` wired to the enforcer. */
  readonly accounting?: Omit<AccountingServer.AccountingServerConfig, "onIngested"> | undefined
}

/** What one sweep did. */
export interface SweepReport {
  readonly staleClosed: number
  readonly alertsRaised: number
  readonly enforcements: number
}

export interface UsageRuntime {
  /** Hand each durable ingest result here (queued for quota / FUP / prepaid enforcement); never fails. */
  readonly onIngested: (result: IngestResult) => Effect.Effect<void>
  /** Waits until every result queued so far has been enforced. */
  readonly enforced: Effect.Effect<void>
  /** One sweep now (what the scheduled fiber runs). */
  readonly sweepOnce: Effect.Effect<SweepReport>
  /** Sweeps completed by the scheduled fiber since start. */
  readonly sweeps: Effect.Effect<number>
  /** The accounting server, when {@link UsageRuntimeOptions.accounting} was given. */
  readonly accountingServer: AccountingServer.AccountingServer | null
}

export const UsageRuntime = Context.GenericTag<UsageRuntime>("@isp-framework/adapters/UsageRuntime")

const logged = <A>(label: string, fallback: A) => <E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, never, R> =>
  Effect.catchAllCause(effect, (cause) => Effect.as(Effect.logWarning(`UsageRuntime: ${label} failed`, cause), fallback))

/** One result standing for several: `afterIngest` sums each service's deltas, so this is exact. */
export const mergeResults = (results: ReadonlyArray<IngestResult>): IngestResult => {
  if (results.length === 1) return results[0]!
  const services = new Set<IngestResult["affectedServices"][number]>()
  let records = 0
  let closedByNas = 0
  const deltas: Array<IngestResult["deltas"][number]> = []
  for (const r of results) {
    records += r.records
    closedByNas += r.closedByNas
    for (const d of r.deltas) deltas.push(d)
    for (const s of r.affectedServices) services.add(s)
  }
  return { records, deltas, closedByNas, affectedServices: [...services] }
}

/** Starts the runtime in the scope. */
export const make = (
  options: UsageRuntimeOptions = {}
): Effect.Effect<UsageRuntime, never, Scope.Scope | ServiceUsage | ServiceAlerts | FupEnforcer> =>
  Effect.gen(function*() {
    const usage = yield* ServiceUsage
    const alerts = yield* ServiceAlerts
    const enforcer = yield* FupEnforcer
    const count = yield* Ref.make(0)

    // The enforcement fiber merges whatever is queued into one afterIngest; counters back `enforced`.
    const queue = yield* Effect.acquireRelease(Queue.unbounded<IngestResult>(), Queue.shutdown)
    const queued = yield* Ref.make(0)
    const handled = yield* Ref.make(0)
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      const taken = [...(yield* Queue.takeBetween(queue, 1, 10_000))]
      yield* enforcer.afterIngest(mergeResults(taken)).pipe(Effect.asVoid, logged<void>("FupEnforcer.afterIngest", undefined))
      yield* Ref.update(handled, (n) => n + taken.length)
    })))

    const onIngested = (result: IngestResult): Effect.Effect<void> =>
      result.affectedServices.length === 0
        ? Effect.void
        : Effect.zipRight(Ref.update(queued, (n) => n + 1), Queue.offer(queue, result))

    const enforced = Effect.gen(function*() {
      const target = yield* Ref.get(queued)
      while ((yield* Ref.get(handled)) < target) yield* Effect.sleep("5 millis")
    })

    const sweepOnce = Effect.gen(function*() {
      const stale = yield* usage.closeStale().pipe(Effect.map((s) => s.length), logged("closeStale", 0))
      const raised = yield* alerts.check().pipe(Effect.map((a) => a.raised.length), logged("ServiceAlerts.check", 0))
      const ticked = yield* enforcer.tick().pipe(Effect.map((e) => e.length), logged("FupEnforcer.tick", 0))
      return { staleClosed: stale, alertsRaised: raised, enforcements: ticked } satisfies SweepReport
    }).pipe(Effect.withSpan("UsageRuntime.sweep"))

    yield* Effect.forkScoped(
      Effect.repeat(Effect.zipRight(sweepOnce, Ref.update(count, (n) => n + 1)), options.sweep ?? Schedule.spaced("1 minute"))
    )

    const accountingServer = options.accounting === undefined
      ? null
      : yield* AccountingServer.make({ ...options.accounting, onIngested })

    return UsageRuntime.of({ onIngested, enforced, sweepOnce, sweeps: Ref.get(count), accountingServer })
  })

/** The runtime as a scoped layer (the sweep fiber and server live as long as the layer). */
export const layer = (
  options: UsageRuntimeOptions = {}
): Layer.Layer<UsageRuntime, never, ServiceUsage | ServiceAlerts | FupEnforcer> => Layer.scoped(UsageRuntime, make(options))
