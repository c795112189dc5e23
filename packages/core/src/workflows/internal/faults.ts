/**
 * Fault injection shared by the network simulators: "fail the next N calls" and "hang the next N
 * calls", optionally only for one operation.
 */
import { Effect } from "effect"

interface Fault {
  readonly kind: "fail" | "hang"
  readonly operation: string | null
  readonly reason: string
}

export class Faults {
  private readonly queue: Array<Fault> = []

  failNext(n: number, operation: string | null = null, reason = "injected failure"): void {
    for (let i = 0; i < n; i++) this.queue.push({ kind: "fail", operation, reason })
  }

  hangNext(n: number, operation: string | null = null): void {
    for (let i = 0; i < n; i++) this.queue.push({ kind: "hang", operation, reason: "hang" })
  }

  clear(): void {
    this.queue.length = 0
  }

  get pending(): number {
    return this.queue.length
  }

  /** Consumes the first fault that applies to `operation`: fails, hangs forever, or lets the call through. */
  gate<E>(operation: string, onFail: (reason: string) => E): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      const i = this.queue.findIndex((f) => f.operation === null || f.operation === operation)
      if (i < 0) return Effect.void
      const [fault] = this.queue.splice(i, 1)
      return fault!.kind === "fail" ? Effect.fail(onFail(fault!.reason)) : Effect.never
    })
  }
}
