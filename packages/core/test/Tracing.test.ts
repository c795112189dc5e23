/**
 * `Tracing.spanWhenTraced`: one named span, ended, around the effect while tracing
 * is on; no span at all while it is off — the same result and failure either way.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Tracing } from "../src/index.js"
import { RecordingTracer } from "../src/testing/Fixtures.js"

const traced = Tracing.spanWhenTraced("unit.work", { attributes: { k: 1 } })

describe("Tracing.spanWhenTraced", () => {
  it.effect("tracing on: one span around the effect, ended; the result is the effect's", () =>
    Effect.gen(function*() {
      const recorder = RecordingTracer.make()
      const value = yield* traced(Effect.succeed(42)).pipe(Effect.withTracer(recorder.tracer))
      expect(value).toBe(42)
      expect(recorder.names).toEqual(["unit.work"])
      expect(recorder.ended()).toBe(1)
    }))

  it.effect("tracing off: no span, same result and same failure", () =>
    Effect.gen(function*() {
      const recorder = RecordingTracer.make()
      const off = <A, E>(e: Effect.Effect<A, E>) => e.pipe(Effect.withTracerEnabled(false), Effect.withTracer(recorder.tracer))
      expect(yield* off(traced(Effect.succeed("x")))).toBe("x")
      const failed = yield* Effect.exit(off(traced(Effect.fail("boom"))))
      expect(failed).toEqual(Exit.fail("boom"))
      expect(recorder.names).toEqual([])
      expect(recorder.ended()).toBe(0)
    }))
})
