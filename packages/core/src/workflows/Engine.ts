/**
 * WorkflowEngine — runs claimed provisioning workflows one step at a time, persisting every step's
 * status, attempts, last error, timestamps and output through the lease-checked
 * `WorkflowRepository.save`. Nothing lives only in memory between steps: a retry's due time is stored
 * as `nextRunAt` (derived from a `Schedule`), so a crashed worker's workflow is resumed by whichever
 * worker claims it after the lease expires, and re-running the interrupted step is safe because steps
 * are idempotent.
 *
 * When a step runs out of attempts:
 * - ACTIVATE (before the service became ACTIVE): the done steps are compensated in reverse order, the
 *   workflow ends COMPENSATED, the service FAILED (lifecycle `ProvisioningFailed`) and a
 *   PROVISIONING_FAILED alert is raised;
 * - any other kind: the workflow ends REQUIRES_MANUAL, the service keeps its (desired) status, and the
 *   alert is raised; the reconciler can later repair the network side.
 *
 * @since 0.1.0
 */
import { Context, DateTime, Duration, Effect, Option, Schedule, ScheduleDecision, ScheduleIntervals } from "effect"
import { RaiseAlert } from "../domain/Alert.js"
import type { WorkflowId } from "../domain/Ids.js"
import { ProvisioningWorkflow } from "../domain/Workflow.js"
import { Actor } from "../domain/StatusChange.js"
import { AlertRepository } from "../ports/AlertRepository.js"
import { IpAllocator } from "../ports/IpAllocator.js"
import { BillingHooks, NasSessionControl, RadiusProvisioner, RouterProvisioner } from "../ports/Network.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { WorkflowRepository } from "../ports/WorkflowRepository.js"
import { ServiceLifecycle } from "../services/ServiceLifecycle.js"
import { actorOfInput, compensationOf, isCompensable, type StepName } from "./Definitions.js"
import { loadContext, type RunContext, runCompensation, runStepWith, StepFailed } from "./Steps.js"
import * as State from "./WorkflowState.js"

/** Tunables of the engine; override with `Layer.succeed(EngineConfig, { ... })`. */
export interface EngineSettings {
  /** Attempts per step before it gives up. */
  readonly maxAttempts: number
  /**
   * Delay before attempt n+1 after attempt n failed: the schedule's n-th delay. A schedule that
   * ends (e.g. with `Schedule.recurs`) also ends the retries.
   */
  readonly backoff: Schedule.Schedule<unknown, unknown>
  /** A step running longer counts as failed (and is retried); keep it well under the lease. */
  readonly stepTimeout: Duration.DurationInput
  /** CoA / Disconnect answer timeout inside the live-session steps. */
  readonly nasTimeout: Duration.DurationInput
  /** Lease taken on claim and renewed at every step. */
  readonly leaseMillis: number
  /** Attempts per compensation (run back to back with `backoff`) before the workflow needs a human. */
  readonly compensationAttempts: number
  /** How long a workflow waits while an older workflow of the same service is unfinished. */
  readonly blockedDelay: Duration.DurationInput
}

export const defaultSettings: EngineSettings = {
  maxAttempts: 6,
  backoff: Schedule.exponential("500 millis", 2).pipe(
    Schedule.jittered,
    Schedule.union(Schedule.spaced("1 minute"))
  ),
  stepTimeout: "20 seconds",
  nasTimeout: "5 seconds",
  leaseMillis: 60_000,
  compensationAttempts: 5,
  blockedDelay: "1 second"
}

/** The engine's settings (defaults: {@link defaultSettings}). */
export class EngineConfig extends Context.Reference<EngineConfig>()("@isp-framework/core/WorkflowEngine/Config", {
  defaultValue: (): EngineSettings => defaultSettings
}) {}

/**
 * The delay a schedule prescribes after the `attempt`-th failure (1-based), or none when the
 * schedule has ended. Pure apart from the schedule's own randomness (jitter).
 */
export const retryDelay = (
  schedule: Schedule.Schedule<unknown, unknown>,
  attempt: number
): Effect.Effect<Option.Option<Duration.Duration>> =>
  Effect.gen(function*() {
    let state: unknown = schedule.initial
    let now = 0
    let delay = Duration.zero
    for (let i = 0; i < attempt; i++) {
      const [next, , decision] = yield* (schedule.step(now, undefined, state) as Effect.Effect<
        readonly [unknown, unknown, ScheduleDecision.ScheduleDecision]
      >)
      if (ScheduleDecision.isDone(decision)) return Option.none()
      const at = ScheduleIntervals.start(decision.intervals)
      delay = Duration.millis(Math.max(0, at - now))
      now = Math.max(at, now)
      state = next
    }
    return Option.some(delay)
  })

/** Options of one engine pass. */
export interface TickOptions {
  readonly workerId: string
  /** How many due workflows to claim at once. */
  readonly batchSize?: number | undefined
  /** Set to true to stop between steps (graceful shutdown). */
  readonly shouldStop?: Effect.Effect<boolean> | undefined
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export class WorkflowEngine extends Effect.Service<WorkflowEngine>()("@isp-framework/core/WorkflowEngine", {
  effect: Effect.gen(function*() {
    const repo = yield* WorkflowRepository
    const alerts = yield* AlertRepository
    const lifecycle = yield* ServiceLifecycle
    const settings = yield* EngineConfig
    // The ports the steps use, captured once so the engine's methods need nothing more.
    const ports = yield* Effect.context<
      | IpAllocator
      | RadiusProvisioner
      | RouterProvisioner
      | NasSessionControl
      | BillingHooks
      | ServiceRepository
      | TemplateRepository
    >()
    const stepContext = Context.add(ports, ServiceLifecycle, lifecycle)

    const now = DateTime.now

    /** An older unfinished workflow of the same service: steps of one service run in request order. */
    const blockedBy = (wf: ProvisioningWorkflow) =>
      Effect.map(repo.listForService(wf.serviceId), (all) =>
        all.find((o) =>
          o.id !== wf.id && !State.isTerminal(o.status) &&
          (DateTime.lessThan(o.createdAt, wf.createdAt) || (DateTime.Equivalence(o.createdAt, wf.createdAt) && o.id < wf.id))
        ))

    const raiseFailureAlert = (wf: ProvisioningWorkflow, error: string, compensated: boolean) =>
      Effect.flatMap(now, (at) =>
        alerts.raise(
          new RaiseAlert({
            serviceId: wf.serviceId,
            customerId: wf.customerId,
            type: "PROVISIONING_FAILED",
            severity: wf.kind === "ACTIVATE" ? "ERROR" : "CRITICAL",
            title: `${wf.kind} workflow failed`,
            message: compensated
              ? `${wf.kind} gave up and was rolled back: ${error}`
              : `${wf.kind} gave up; the service needs attention (reconcile or repair by hand): ${error}`,
            cause: `PROVISIONING_FAILED:${wf.kind}`
          }),
          at
        ))

    /**
     * Runs a claimed workflow until it finishes, waits for a retry, is blocked, loses its lease, or
     * `shouldStop` turns true between two steps.
     */
    const runClaimed = Effect.fn("WorkflowEngine.runClaimed")(function*(
      claimed: ProvisioningWorkflow,
      workerId: string,
      shouldStop: Effect.Effect<boolean> = Effect.succeed(false)
    ) {
      // Every save renews the lease unless the record gives it up (finish / release).
      const save = (wf: ProvisioningWorkflow, keepLease = true) =>
        Effect.gen(function*() {
          const t = yield* now
          const record = keepLease
            ? new ProvisioningWorkflow({
              ...wf,
              lockedBy: workerId,
              lockedUntil: State.leaseUntil(t, settings.leaseMillis)
            }, true)
            : wf
          yield* repo.save(record, workerId)
          return record
        })

      let wf = claimed
      // What this run carries between steps: the service as read at its start, whether per-service
      // order was checked, and the step the last save already started (with the record before that).
      let context: RunContext | null = null
      let orderChecked = false
      let startedIndex = -1
      let unstarted = claimed
      while (!State.isTerminal(wf.status)) {
        const phase = State.phase(wf)
        const t = yield* now

        if (phase._tag === "Complete") {
          wf = yield* save(State.finish(wf, "SUCCEEDED", t, null), false)
          yield* Effect.logDebug("workflow succeeded").pipe(Effect.annotateLogs({ workflowId: wf.id }))
          return wf
        }

        if (phase._tag === "GiveUp") {
          const error = wf.steps[phase.failedIndex]!.lastError ?? "step failed"
          const activated = wf.steps.some((s) => s.name === "activate" && s.status === "SUCCEEDED")
          if (isCompensable(wf.kind) && !activated) {
            // Undo in reverse order, the failed step included (it may have half-applied).
            for (let i = phase.failedIndex; i >= 0; i--) {
              const step = wf.steps[i]!
              const compensation = compensationOf(wf.kind, step.name)
              if (compensation === null || step.status === "COMPENSATED") continue
              if (i < phase.failedIndex && step.status !== "SUCCEEDED") continue
              const undone = yield* runCompensation(compensation, wf).pipe(
                Effect.provide(stepContext),
                Effect.timeoutFail({
                  duration: settings.stepTimeout,
                  onTimeout: () => new StepFailed({ step: compensation, reason: "timed out", retryable: true })
                }),
                Effect.catchAllDefect((d) => Effect.fail(new StepFailed({ step: compensation, reason: errorText(d), retryable: true }))),
                Effect.retry({ schedule: settings.backoff, times: Math.max(0, settings.compensationAttempts - 1) }),
                Effect.either
              )
              if (undone._tag === "Left") {
                const reason = `compensation ${compensation} failed: ${undone.left.reason} (after: ${error})`
                yield* raiseFailureAlert(wf, reason, false)
                wf = yield* save(State.finish(wf, "REQUIRES_MANUAL", yield* now, reason), false)
                return wf
              }
              if (i < phase.failedIndex) wf = yield* save(State.stepCompensated(wf, i, yield* now))
            }
            const failed = yield* lifecycle.apply(
              wf.serviceId,
              { _tag: "ProvisioningFailed", error },
              new Actor(actorOfInput(wf.input))
            ).pipe(Effect.either)
            if (failed._tag === "Left" && failed.left._tag !== "InvalidTransition") {
              // Not yet consistent: let a later pass finish the job (compensations are idempotent).
              wf = yield* save(State.release(wf, DateTime.add(yield* now, { millis: Duration.toMillis(settings.blockedDelay) }), yield* now), false)
              return wf
            }
            yield* raiseFailureAlert(wf, error, true)
            wf = yield* save(State.finish(wf, "COMPENSATED", yield* now, error), false)
          } else {
            yield* raiseFailureAlert(wf, error, false)
            wf = yield* save(State.finish(wf, "REQUIRES_MANUAL", t, error), false)
          }
          yield* Effect.logWarning("workflow gave up").pipe(Effect.annotateLogs({ workflowId: wf.id, status: wf.status, error }))
          return wf
        }

        // RunStep. The step may already be RUNNING: the previous step's save started it.
        const index = phase.index
        const name = wf.steps[index]!.name as StepName
        if (startedIndex !== index) {
          if (yield* shouldStop) {
            return yield* save(State.release(wf, t, t), false)
          }
          if (!orderChecked) {
            // Once per claim: while this run goes on no older workflow of the service can appear
            // (newer requests only ever queue behind it).
            const older = yield* blockedBy(wf)
            if (older !== undefined) {
              return yield* save(State.release(wf, DateTime.add(t, { millis: Duration.toMillis(settings.blockedDelay) }), t), false)
            }
            orderChecked = true
          }
          // Read the clock again: the check above may have waited for a connection.
          const startAt = yield* now
          wf = yield* save(State.startStep(wf, index, startAt, workerId, State.leaseUntil(startAt, settings.leaseMillis)))
          startedIndex = index
        } else if (yield* shouldStop) {
          // Started by the previous save but not run: give the step back as it was before that save.
          return yield* save(State.release(unstarted, t, t), false)
        }
        const attempts = wf.steps[index]!.attempts
        const current = wf
        const outcome = yield* Effect.suspend(() => (context === null ? loadContext(current, name) : Effect.succeed(context))).pipe(
          Effect.flatMap((ctx) => runStepWith(name, current, settings, ctx)),
          Effect.provide(stepContext),
          Effect.timeoutFail({
            duration: settings.stepTimeout,
            onTimeout: () =>
              new StepFailed({ step: name, reason: `timed out after ${Duration.format(settings.stepTimeout)}`, retryable: true })
          }),
          Effect.catchAllDefect((d) => Effect.fail(new StepFailed({ step: name, reason: errorText(d), retryable: true }))),
          Effect.either,
          Effect.withSpan(`WorkflowStep.${name}`, { attributes: { workflowId: wf.id, attempt: attempts } })
        )
        const after = yield* now
        if (outcome._tag === "Right") {
          context = outcome.right.context
          const result = outcome.right.outcome
          if (result._tag === "Superseded") {
            wf = yield* save(State.finish(State.skipRemaining(wf, index, `superseded: ${result.reason}`, after), "SUCCEEDED", after, null), false)
            continue
          }
          // One write records the step's success and starts the next step (or finishes the workflow).
          const succeeded = State.stepSucceeded(wf, index, result.output, after)
          const next = State.phase(succeeded)
          if (next._tag === "RunStep") {
            unstarted = succeeded
            wf = yield* save(State.startStep(succeeded, next.index, after, workerId, State.leaseUntil(after, settings.leaseMillis)))
            startedIndex = next.index
          } else if (next._tag === "Complete") {
            wf = yield* save(State.finish(succeeded, "SUCCEEDED", after, null), false)
            yield* Effect.logDebug("workflow succeeded").pipe(Effect.annotateLogs({ workflowId: wf.id }))
            return wf
          } else {
            wf = yield* save(succeeded)
          }
          continue
        }
        // A failure may have come from a half-done step: the next attempt starts from fresh reads.
        context = null
        const failure = outcome.left
        const delay = failure.retryable && attempts < settings.maxAttempts
          ? yield* retryDelay(settings.backoff, attempts)
          : Option.none()
        if (Option.isSome(delay)) {
          yield* Effect.logInfo("workflow step failed; retrying later").pipe(
            Effect.annotateLogs({ workflowId: wf.id, step: name, attempts, error: failure.reason })
          )
          return yield* save(
            State.stepRetryLater(wf, index, failure.reason, DateTime.add(after, { millis: Duration.toMillis(delay.value) }), after),
            false
          )
        }
        wf = yield* save(State.stepGaveUp(wf, index, failure.reason, after))
      }
      return wf
    }, (effect, claimed, workerId) =>
      // A lost lease means another worker owns the workflow now: stop quietly, it carries on.
      Effect.catchTag(effect, "LeaseLost", () =>
        Effect.as(
          Effect.logInfo("lease lost; another worker continues").pipe(Effect.annotateLogs({ workflowId: claimed.id, workerId })),
          claimed
        )))

    /** Claims up to `limit` due workflows for `workerId` (oldest due first) without running them. */
    const claim = (workerId: string, limit: number) =>
      repo.claimDue({ workerId, leaseMillis: settings.leaseMillis, limit }).pipe(Effect.withSpan("WorkflowEngine.claim"))

    /** Claims up to `batchSize` due workflows and runs them concurrently; returns how many were claimed. */
    const tick = Effect.fn("WorkflowEngine.tick")(function*(options: TickOptions) {
      const claimed = yield* claim(options.workerId, options.batchSize ?? 10)
      yield* Effect.forEach(claimed, (wf) => runClaimed(wf, options.workerId, options.shouldStop), {
        concurrency: "unbounded",
        discard: true
      })
      return claimed.length
    })

    /** Runs passes until one claims nothing (workflows waiting for a later retry are left waiting). */
    const runUntilIdle = Effect.fn("WorkflowEngine.runUntilIdle")(function*(options?: {
      readonly workerId?: string | undefined
      readonly batchSize?: number | undefined
    }) {
      let total = 0
      for (;;) {
        const n = yield* tick({ workerId: options?.workerId ?? "run-until-idle", batchSize: options?.batchSize ?? 50 })
        if (n === 0) return total
        total += n
      }
    })

    /**
     * Runs passes (sleeping `pollInterval` when nothing is due) until every listed workflow is finished;
     * returns them as stored. Handy for tests and examples that wait out retries.
     */
    const drain = Effect.fn("WorkflowEngine.drain")(function*(
      ids: ReadonlyArray<WorkflowId>,
      options?: { readonly workerId?: string | undefined; readonly pollInterval?: Duration.DurationInput | undefined }
    ) {
      for (;;) {
        const current = yield* Effect.forEach(ids, (id) => repo.findById(id))
        const done = current.flatMap((o) => (Option.isSome(o) && State.isTerminal(o.value.status) ? [o.value] : []))
        if (done.length === ids.length) return done
        const n = yield* tick({ workerId: options?.workerId ?? "drain", batchSize: 50 })
        if (n === 0) yield* Effect.sleep(options?.pollInterval ?? "10 millis")
      }
    })

    return { claim, runClaimed, tick, runUntilIdle, drain, settings } as const
  }),
  dependencies: [ServiceLifecycle.Default]
}) {}
