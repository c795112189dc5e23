/**
 * Transactor — a unit of work. Effects run inside `withTransaction` commit or roll back together;
 * ServiceProvisioning uses it so a service row and its workflow row are never written one without the
 * other. The Postgres adapter provides it with `sql.withTransaction`; the memory layer serialises
 * transactions with a one-permit semaphore (re-entrant), which is enough for atomic
 * "check the idempotency key, then insert" in one process.
 *
 * @since 0.1.0
 */
import { Context, Effect, FiberRef, Layer } from "effect"

export interface Transactor {
  /** Runs `effect` as one transaction; nested calls join the outer transaction. */
  readonly withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const Transactor = Context.GenericTag<Transactor>("@isp-framework/core/Transactor")

/**
 * In-memory transactor: one transaction at a time per layer, re-entrant within a fiber. It gives
 * isolation (no interleaving), not rollback: memory adapters must check before they write.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<Transactor> = Layer.scoped(
  Transactor,
  Effect.gen(function*() {
    const semaphore = yield* Effect.makeSemaphore(1)
    const inside = yield* FiberRef.make(false)
    return Transactor.of({
      withTransaction: (effect) =>
        Effect.flatMap(FiberRef.get(inside), (nested) =>
          nested ? effect : semaphore.withPermits(1)(Effect.locally(effect, inside, true)))
    })
  })
)

/**
 * A transactor that does nothing (for stores without transactions).
 *
 * @since 0.1.0
 */
export const layerNoop: Layer.Layer<Transactor> = Layer.succeed(Transactor, { withTransaction: (effect) => effect })
