import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Option, Schedule } from "effect"
import * as fc from "fast-check"
import type { CustomerId, ServiceId, WorkflowId } from "../../src/domain/Ids.js"
import { WorkflowKind } from "../../src/domain/Enums.js"
import { definitions, stepsOf } from "../../src/workflows/Definitions.js"
import { retryDelay } from "../../src/workflows/Engine.js"
import * as State from "../../src/workflows/WorkflowState.js"

const now = DateTime.unsafeMake(Date.UTC(2026, 0, 1))
const fresh = (kind: WorkflowKind) =>
  State.make({
    id: "01900000-0000-7000-8000-000000000001" as WorkflowId,
    serviceId: "01900000-0000-7000-8000-000000000002" as ServiceId,
    customerId: "c-1" as CustomerId,
    kind,
    input: {},
    idempotencyKey: null,
    now
  })

describe("retryDelay", () => {
  it.effect.prop("exponential: the n-th delay doubles", [fc.integer({ min: 1, max: 12 })], ([n]) =>
    Effect.gen(function*() {
      const d = yield* retryDelay(Schedule.exponential("100 millis"), n)
      expect(Option.map(d, Duration.toMillis)).toEqual(Option.some(100 * 2 ** (n - 1)))
    }))

  it.effect.prop("a schedule that ends ends the retries", [fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 10 })], ([k, n]) =>
    Effect.gen(function*() {
      const d = yield* retryDelay(Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(k))), n)
      expect(Option.isSome(d)).toBe(n <= k)
    }))
})

describe("WorkflowState", () => {
  it.prop("a new workflow runs its definition's steps in order, first step first", [fc.constantFrom(...WorkflowKind.literals)], ([kind]) => {
    const wf = fresh(kind)
    expect(wf.steps.map((s) => s.name)).toEqual(stepsOf(kind))
    expect(State.phase(wf)).toEqual({ _tag: "RunStep", index: 0 })
  })

  it.prop(
    "succeeding every step completes; giving up at any step skips the rest",
    [fc.constantFrom(...WorkflowKind.literals), fc.nat()],
    ([kind, pick]) => {
      let wf = fresh(kind)
      const n = definitions[kind].length
      const failAt = pick % n
      for (let i = 0; i < failAt; i++) wf = State.stepSucceeded(State.startStep(wf, i, now, "w", now), i, { i }, now)
      expect(State.phase(wf)).toEqual({ _tag: "RunStep", index: failAt })
      const retry = State.stepRetryLater(State.startStep(wf, failAt, now, "w", now), failAt, "boom", now, now)
      expect(State.phase(retry)).toEqual({ _tag: "RunStep", index: failAt })
      expect(retry.lockedBy).toBeNull()
      const gaveUp = State.stepGaveUp(retry, failAt, "boom", now)
      expect(State.phase(gaveUp)).toEqual({ _tag: "GiveUp", failedIndex: failAt })
      expect(gaveUp.steps.slice(failAt + 1).every((s) => s.status === "SKIPPED")).toBe(true)
      let all = fresh(kind)
      for (let i = 0; i < n; i++) all = State.stepSucceeded(State.startStep(all, i, now, "w", now), i, null, now)
      expect(State.phase(all)).toEqual({ _tag: "Complete" })
      expect(State.outputOf(wf, stepsOf(kind)[0]!)).toEqual(failAt > 0 ? { i: 0 } : null)
    }
  )
})
