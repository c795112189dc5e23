/**
 * Counts the steps of Effect's fiber run loop (one per primitive effect evaluated) while `f` runs:
 * a figure that, unlike time, does not move with the load on a shared machine, so a change to the
 * request path can be judged by it run to run.
 *
 * How: every step not spent yielding asks the fiber's scheduler `shouldYield`; fibers use
 * `Scheduler.defaultScheduler` unless told otherwise, so its method is wrapped for the duration.
 * Bench-only (it patches a shared prototype); `Effect.runSync` uses another scheduler and is not seen.
 */
import { Scheduler } from "effect"

export const countSteps = async <A>(f: () => Promise<A>): Promise<{ readonly result: A; readonly steps: number }> => {
  const proto = Object.getPrototypeOf(Scheduler.defaultScheduler) as {
    shouldYield: (this: Scheduler.Scheduler, fiber: unknown) => number | false
  }
  const original = proto.shouldYield
  let steps = 0
  proto.shouldYield = function(fiber) {
    steps++
    return original.call(this, fiber)
  }
  try {
    const result = await f()
    return { result, steps }
  } finally {
    proto.shouldYield = original
  }
}
