/**
 * SimulatedNas — an in-memory {@link NasSessionControl}: records every CoA-Request and
 * Disconnect-Request it receives and answers ACK, NAK or nothing as a test chooses. `hangNext` makes
 * the next requests never return (a NAS that swallowed the packet and a client without a timeout).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { NasSessionControl, type RateLimit, type SessionControlResult, type SessionTarget } from "../ports/Network.js"
import { Faults } from "../workflows/internal/faults.js"

/** One request the NAS received. */
export type NasRequest =
  | {
    readonly _tag: "CoA"
    readonly target: SessionTarget
    readonly rate: RateLimit
    readonly addressList: string | null
    readonly result: SessionControlResult
  }
  | { readonly _tag: "Disconnect"; readonly target: SessionTarget; readonly result: SessionControlResult }

export interface SimulatedNas {
  readonly requests: Effect.Effect<ReadonlyArray<NasRequest>>
  /** How the NAS answers from now on (default: ACK to both). */
  readonly respondWith: (kind: "CoA" | "Disconnect", result: SessionControlResult) => Effect.Effect<void>
  readonly hangNext: (n: number, kind?: "CoA" | "Disconnect") => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
}
export const SimulatedNas = Context.GenericTag<SimulatedNas>("@isp-framework/core/SimulatedNas")

/** Ready-made answers. */
export const Ack: SessionControlResult = { _tag: "Ack" }
export const Nak = (errorCause = 503, errorCauseName = "Session-Context-Not-Found"): SessionControlResult => ({
  _tag: "Nak",
  errorCause,
  errorCauseName
})
export const NoResponse: SessionControlResult = { _tag: "NoResponse", attempts: 3 }

/**
 * Builds a simulator and the session control backed by it.
 *
 * @since 0.1.0
 */
export const make = Effect.sync(() => {
  const requests: Array<NasRequest> = []
  const answers: { CoA: SessionControlResult; Disconnect: SessionControlResult } = { CoA: Ack, Disconnect: Ack }
  const faults = new Faults()
  const never = (): never => {
    throw new Error("unreachable")
  }

  const control = NasSessionControl.of({
    changeRate: (target, rate, options) =>
      Effect.zipRight(
        Effect.orElse(faults.gate("CoA", never), () => Effect.void),
        Effect.sync(() => {
          const result = answers.CoA
          requests.push({ _tag: "CoA", target, rate, addressList: options?.addressList ?? null, result })
          return result
        })
      ),
    disconnect: (target) =>
      Effect.zipRight(
        Effect.orElse(faults.gate("Disconnect", never), () => Effect.void),
        Effect.sync(() => {
          const result = answers.Disconnect
          requests.push({ _tag: "Disconnect", target, result })
          return result
        })
      )
  })

  const simulator: SimulatedNas = {
    requests: Effect.sync(() => [...requests]),
    respondWith: (kind, result) => Effect.sync(() => void (answers[kind] = result)),
    hangNext: (n, kind) => Effect.sync(() => faults.hangNext(n, kind ?? null)),
    clearFaults: Effect.sync(() => faults.clear())
  }
  return { control, simulator } as const
})

/**
 * Provides both `NasSessionControl` and the `SimulatedNas` control handle.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<NasSessionControl | SimulatedNas> = Layer.effectContext(
  Effect.map(make, ({ control, simulator }) =>
    Context.make(NasSessionControl, control).pipe(Context.add(SimulatedNas, simulator)))
)
