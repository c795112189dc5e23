/**
 * The core `NasSessionControl` port over the RFC 5176 client (`CoaClient`): a CoA-Request carrying
 * the new `Mikrotik-Rate-Limit` (and `Mikrotik-Address-List` for the walled garden), or a
 * Disconnect-Request, sent to the NAS the session lives on.
 *
 * NASes are found in a registry keyed by the service's NAS / router id (`SessionTarget.nasId`): a
 * fixed record, or a lookup (e.g. from the database). Outcomes map onto the port's results:
 * ACK → `Ack`; NAK → `Nak` with its Error-Cause; no valid answer after every retransmission, a
 * response that fails authentication (wrong secret), a request that could not be sent, or an unknown
 * NAS → `NoResponse` (logged), so the step falls back to a Disconnect and then finishes: the RADIUS
 * rows are already right, and the next authentication picks them up.
 *
 * @since 0.1.0
 */
import { Desired, NasSessionControl, type SessionControlResult, type SessionTarget } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CoaClient, type CoaClientConfig, type CoaError, type CoaResult, type NasEndpoint } from "./CoaClient.js"
import * as Coa from "./CoaClient.js"

/**
 * Where NASes are: `{ nasId: { host, port, secret } }`, or a lookup yielding `undefined` for an
 * unknown id.
 *
 * @since 0.1.0
 */
export type NasRegistry =
  | Readonly<Record<string, NasEndpoint>>
  | ((nasId: string) => Effect.Effect<NasEndpoint | undefined>)

const lookup = (registry: NasRegistry, nasId: string): Effect.Effect<NasEndpoint | undefined> =>
  typeof registry === "function" ? registry(nasId) : Effect.succeed(registry[nasId])

const toResult = (result: CoaResult): SessionControlResult =>
  result._tag === "CoaAck"
    ? { _tag: "Ack" }
    : { _tag: "Nak", errorCause: result.errorCause ?? null, errorCauseName: result.errorCauseName ?? null }

const fromError = (nasId: string, operation: string) => (error: CoaError): Effect.Effect<SessionControlResult> =>
  Effect.as(
    Effect.logWarning(`${operation} to NAS ${nasId} got no usable answer`).pipe(
      Effect.annotateLogs({ nasId, error: error.message })
    ),
    { _tag: "NoResponse", attempts: error._tag === "RadiusTimeout" ? error.attempts : 1 }
  )

/**
 * Builds the port over a `CoaClient`.
 *
 * @since 0.1.0
 */
export const make = (registry: NasRegistry): Effect.Effect<NasSessionControl, never, CoaClient> =>
  Effect.gen(function*() {
    const client = yield* CoaClient

    const withNas = (
      target: SessionTarget,
      operation: string,
      send: (nas: NasEndpoint) => Effect.Effect<CoaResult, CoaError>
    ): Effect.Effect<SessionControlResult> =>
      Effect.flatMap(lookup(registry, target.nasId), (nas) =>
        nas === undefined
          ? Effect.as(
            Effect.logWarning(`${operation}: no NAS registered as ${target.nasId}`),
            { _tag: "NoResponse", attempts: 0 } as const
          )
          : send(nas).pipe(Effect.map(toResult), Effect.catchAll(fromError(target.nasId, operation))))

    const selector = (target: SessionTarget) => ({
      userName: target.username,
      framedIp: target.framedIpAddress ?? undefined,
      sessionId: target.acctSessionId ?? undefined
    })

    const changeRate = Effect.fn("NasSessionControl.changeRate")(function*(
      target: SessionTarget,
      rate: Parameters<NasSessionControl["changeRate"]>[1],
      options?: { readonly addressList?: string | null }
    ) {
      yield* Effect.annotateCurrentSpan({ nasId: target.nasId, username: target.username })
      return yield* withNas(target, "CoA-Request", (nas) =>
        client.changeRate(nas, {
          ...selector(target),
          rateLimit: Desired.rateLimitText(rate),
          addressList: options?.addressList ?? undefined
        }))
    })

    const disconnect = Effect.fn("NasSessionControl.disconnect")(function*(target: SessionTarget) {
      yield* Effect.annotateCurrentSpan({ nasId: target.nasId, username: target.username })
      return yield* withNas(target, "Disconnect-Request", (nas) => client.disconnect(nas, selector(target)))
    })

    return NasSessionControl.of({ changeRate, disconnect })
  })

/**
 * The port with its own CoA client (UDP socket closed with the layer).
 *
 * @since 0.1.0
 */
export const layer = (registry: NasRegistry, config: CoaClientConfig = {}): Layer.Layer<NasSessionControl> =>
  Layer.effect(NasSessionControl, make(registry)).pipe(Layer.provide(Coa.layer(config)))

/**
 * The port over an existing `CoaClient`.
 *
 * @since 0.1.0
 */
export const layerFromClient = (registry: NasRegistry): Layer.Layer<NasSessionControl, never, CoaClient> =>
  Layer.effect(NasSessionControl, make(registry))
