/**
 * A workflow worker: a scoped fiber that loops `claimDue → run each → poll`. Start any number, in any
 * number of processes; the repository's lease keeps them from running one workflow twice at once.
 *
 * Shutdown is graceful: closing the worker's scope (or `stop`) lets each running workflow finish its
 * current step, gives the lease back, and ends the loop; after `shutdownTimeout` the fiber is
 * interrupted — which loses nothing either, since the lease expires and another worker resumes.
 *
 * @since 0.1.0
 */
import { Deferred, type Duration, Effect, Fiber, Layer, Ref, type Scope } from "effect"
import { uuidv7 } from "../internal/uuid.js"
import { WorkflowEngine } from "./Engine.js"

export interface WorkerOptions {
  /** Unique per worker; default a fresh id. */
  readonly workerId?: string | undefined
  /** Workflows claimed per pass (run concurrently). Default 10. */
  readonly batchSize?: number | undefined
  /** Sleep between passes that found nothing due. Default 500 ms. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** How long a graceful stop may take before the fiber is interrupted. Default 30 s. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

/** A running worker. */
export interface WorkerHandle {
  readonly workerId: string
  /** Graceful stop: finish the current steps, release the leases, end the loop (waits for it). */
  readonly stop: Effect.Effect<void>
  /** The loop fiber (interrupt it to simulate a crash). */
  readonly fiber: Fiber.RuntimeFiber<void, never>
}

/**
 * Starts a worker in the current scope; closing the scope stops it gracefully.
 *
 * @since 0.1.0
 */
export const start = (options: WorkerOptions = {}): Effect.Effect<WorkerHandle, never, WorkflowEngine | Scope.Scope> =>
  Effect.gen(function*() {
    const engine = yield* WorkflowEngine
    const workerId = options.workerId ?? `worker-${uuidv7(Date.now()).slice(-12)}`
    const stopping = yield* Ref.make(false)
    const stopSignal = yield* Deferred.make<void>()
    const shouldStop = Ref.get(stopping)

    const loop = Effect.gen(function*() {
      while (!(yield* shouldStop)) {
        const n = yield* engine.tick({ workerId, batchSize: options.batchSize ?? 10, shouldStop }).pipe(
          Effect.catchAllCause((cause) =>
            Effect.as(Effect.logError("workflow worker pass failed", cause).pipe(Effect.annotateLogs({ workerId })), 0)
          )
        )
        if (n === 0) {
          // Wake early on stop so shutdown does not wait a whole poll interval.
          yield* Effect.raceFirst(Effect.sleep(options.pollInterval ?? "500 millis"), Deferred.await(stopSignal))
        }
      }
    }).pipe(Effect.annotateLogs({ workerId }))

    const fiber = yield* Effect.forkDaemon(loop)
    const stop = Effect.gen(function*() {
      yield* Ref.set(stopping, true)
      yield* Deferred.succeed(stopSignal, undefined)
      const finished = yield* Fiber.await(fiber).pipe(Effect.timeout(options.shutdownTimeout ?? "30 seconds"), Effect.option)
      if (finished._tag === "None") yield* Fiber.interrupt(fiber)
    })
    yield* Effect.addFinalizer(() => stop)
    return { workerId, stop, fiber }
  })

/**
 * `count` workers in the current scope.
 *
 * @since 0.1.0
 */
export const startMany = (count: number, options: Omit<WorkerOptions, "workerId"> & { readonly prefix?: string } = {}) =>
  Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
    start({ ...options, workerId: `${options.prefix ?? "worker"}-${i + 1}-${uuidv7(Date.now()).slice(-6)}` }))

/**
 * A layer that runs `count` workers for as long as the layer lives (graceful stop on release).
 *
 * @since 0.1.0
 */
export const layer = (count = 1, options: Omit<WorkerOptions, "workerId"> = {}): Layer.Layer<never, never, WorkflowEngine> =>
  Layer.scopedDiscard(startMany(count, options))
