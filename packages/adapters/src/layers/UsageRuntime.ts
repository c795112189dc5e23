/**
 * UsageRuntime — the background half of usage tracking, wired once for an application:
 *
 * - every durable accounting batch goes on to `FupEnforcer.afterIngest` (quota alerts, Smart FUP
 *   speed changes, prepaid suspension) — pass {@link UsageRuntime.onIngested} to an ingest source,
 *   or let {@link make} start the `AccountingServer` with it already wired;
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
import { Context, Effect, Layer, Ref, Schedule } from "effect"
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
  /** Hand each durable ingest result here (quota / FUP / prepaid enforcement); never fails. */
  readonly onIngested: (result: IngestResult) => Effect.Effect<void>
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

/** Starts the runtime in the scope. */
export const make = (
  options: UsageRuntimeOptions = {}
): Effect.Effect<UsageRuntime, never, Scope.Scope | ServiceUsage | ServiceAlerts | FupEnforcer> =>
  Effect.gen(function*() {
    const usage = yield* ServiceUsage
    const alerts = yield* ServiceAlerts
    const enforcer = yield* FupEnforcer
    const count = yield* Ref.make(0)

    const onIngested = (result: IngestResult): Effect.Effect<void> =>
      result.affectedServices.length === 0
        ? Effect.void
        : enforcer.afterIngest(result).pipe(Effect.asVoid, logged<void>("FupEnforcer.afterIngest", undefined))

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

    return UsageRuntime.of({ onIngested, sweepOnce, sweeps: Ref.get(count), accountingServer })
  })

/** The runtime as a scoped layer (the sweep fiber and server live as long as the layer). */
export const layer = (
  options: UsageRuntimeOptions = {}
): Layer.Layer<UsageRuntime, never, ServiceUsage | ServiceAlerts | FupEnforcer> => Layer.scoped(UsageRuntime, make(options))
