/**
 * A NAS on loopback for tests of the RFC 5176 client: a UDP server that decodes CoA-Request and
 * Disconnect-Request packets, records them, and answers as the test chooses (ACK, NAK with an
 * Error-Cause, or nothing), switchable at any time.
 *
 * Unlike a real NAS it also answers requests it cannot authenticate (signed with its own secret), so
 * a test can give it a different secret from the client's and watch the client reject the answer.
 * Each recorded request says whether it was authentic.
 *
 * ```ts
 * const nas = yield* NasStub.make({ secret: "s3cret" })
 * yield* nas.respondWith(NasStub.nak(503))
 * const result = yield* client.changeRate(nas.endpoint, { userName: "alice", rateLimit: "2M/2M" })
 * const [request] = yield* nas.requests
 * expect(request.vendor["Mikrotik-Rate-Limit"]).toBe("2M/2M")
 * ```
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Dgram from "node:dgram"
import type { NasEndpoint } from "../../src/radius/CoaClient.js"
import {
  decode,
  decodeRequest,
  type DynamicAuthResponseCode,
  encodeResponse,
  type RadiusAttribute
} from "../../src/radius/RadiusCodec.js"

/** One request the stub received. */
export interface ReceivedRequest {
  readonly kind: "CoA" | "Disconnect"
  readonly identifier: number
  /** Decoded top-level attributes (`"User-Name"`, `"Framed-IP-Address"`, ...). */
  readonly attributes: Readonly<Record<string, unknown>>
  /** Decoded vendor attributes (`"Mikrotik-Rate-Limit"`, ...). */
  readonly vendor: Readonly<Record<string, unknown>>
  /** Request Authenticator and Message-Authenticator verified with the stub's secret. */
  readonly authentic: boolean
  readonly hasMessageAuthenticator: boolean
  readonly from: { readonly address: string; readonly port: number }
  /** How many times this identifier arrived from this sender so far (retransmissions). */
  readonly copy: number
}

/** How the stub answers one request. */
export type Answer =
  | { readonly _tag: "Ack"; readonly attributes?: ReadonlyArray<RadiusAttribute> }
  | { readonly _tag: "Nak"; readonly errorCause?: number; readonly attributes?: ReadonlyArray<RadiusAttribute> }
  | { readonly _tag: "Silent" }

export const ack: Answer = { _tag: "Ack" }
export const nak = (errorCause?: number): Answer =>
  errorCause === undefined ? { _tag: "Nak" } : { _tag: "Nak", errorCause }
export const silent: Answer = { _tag: "Silent" }

/** Decides the answer (and an optional delay in milliseconds) per request. */
export type Responder = (request: ReceivedRequest) => Answer | { readonly answer: Answer; readonly delayMs: number }

export interface NasStub {
  readonly host: string
  readonly port: number
  /** `{ host, port, secret }` with the secret the stub was made with. */
  readonly endpoint: NasEndpoint
  /** Everything received so far, in arrival order (retransmissions included). */
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** Answer every request with `answer` from now on. */
  readonly respondWith: (answer: Answer) => Effect.Effect<void>
  /** Decide per request from now on. */
  readonly respondWithFn: (responder: Responder) => Effect.Effect<void>
  /** Change the secret the stub verifies and signs with. */
  readonly setSecret: (secret: string) => Effect.Effect<void>
  /** Add a Message-Authenticator to answers (default false, like FreeRADIUS 3.2). */
  readonly setMessageAuthenticator: (enabled: boolean) => Effect.Effect<void>
  readonly clear: Effect.Effect<void>
}

export class NasStubService extends Context.Tag("@isp-framework/adapters/test/NasStub")<NasStubService, NasStub>() {}

/** Starts a stub on 127.0.0.1 at a free port; it stops when the scope closes. */
export const make = (options: { readonly secret?: string } = {}): Effect.Effect<NasStub, never, Scope.Scope> =>
  Effect.gen(function*() {
    const state = {
      secret: options.secret ?? "nas-secret",
      responder: ((): Answer => ack) as Responder,
      messageAuthenticator: false,
      received: [] as Array<ReceivedRequest>,
      copies: new Map<string, number>()
    }
    const initialSecret = state.secret
    const socket = yield* Effect.acquireRelease(
      Effect.async<Dgram.Socket>((resume) => {
        const socket = Dgram.createSocket("udp4")
        socket.bind(0, "127.0.0.1", () => resume(Effect.succeed(socket)))
      }),
      (socket) => Effect.sync(() => socket.close())
    )

    socket.on("message", (message, from) => {
      let decoded
      let authentic = true
      try {
        decoded = decodeRequest(message, state.secret)
      } catch {
        authentic = false
        try {
          decoded = decode(message)
        } catch {
          return
        }
      }
      const kind = decoded.code === "CoA-Request" ? "CoA" : decoded.code === "Disconnect-Request" ? "Disconnect" : null
      if (kind === null) return
      const copyKey = `${from.address}|${from.port}|${decoded.identifier}|${decoded.authenticator.toString("hex")}`
      const copy = (state.copies.get(copyKey) ?? 0) + 1
      state.copies.set(copyKey, copy)
      const vendor = decoded.attributes["Vendor-Specific"]
      const request: ReceivedRequest = {
        kind,
        identifier: decoded.identifier,
        attributes: decoded.attributes,
        vendor: typeof vendor === "object" && vendor !== null ? vendor as Record<string, unknown> : {},
        authentic,
        hasMessageAuthenticator: decoded.hasMessageAuthenticator,
        from: { address: from.address, port: from.port },
        copy
      }
      state.received.push(request)
      const decided = state.responder(request)
      const { answer, delayMs } = "answer" in decided ? decided : { answer: decided, delayMs: 0 }
      if (answer._tag === "Silent") return
      const code: DynamicAuthResponseCode = `${kind}-${answer._tag === "Ack" ? "ACK" : "NAK"}`
      const attributes: Array<RadiusAttribute> = [
        ...(answer._tag === "Nak" && answer.errorCause !== undefined ? [["Error-Cause", answer.errorCause] as const] : []),
        ...(answer.attributes ?? [])
      ]
      const response = encodeResponse({
        request: message,
        code,
        secret: state.secret,
        attributes,
        messageAuthenticator: state.messageAuthenticator
      })
      const reply = () => socket.send(response, from.port, from.address)
      if (delayMs > 0) setTimeout(reply, delayMs)
      else reply()
    })

    const address = socket.address()
    return {
      host: address.address,
      port: address.port,
      endpoint: { host: address.address, port: address.port, secret: initialSecret },
      requests: Effect.sync(() => [...state.received]),
      respondWith: (answer) => Effect.sync(() => void (state.responder = () => answer)),
      respondWithFn: (responder) => Effect.sync(() => void (state.responder = responder)),
      setSecret: (secret) => Effect.sync(() => void (state.secret = secret)),
      setMessageAuthenticator: (enabled) => Effect.sync(() => void (state.messageAuthenticator = enabled)),
      clear: Effect.sync(() => {
        state.received.length = 0
        state.copies.clear()
      })
    } satisfies NasStub
  })

/** The stub as a Layer (for `it.layer`). */
export const layer = (options: { readonly secret?: string } = {}): Layer.Layer<NasStubService> =>
  Layer.scoped(NasStubService, make(options))
