/**
 * RFC 5176 Dynamic Authorization client: CoA-Request (change a live session, e.g. its MikroTik rate)
 * and Disconnect-Request (end it), over UDP, to any NAS given as `{ host, port, secret }`.
 *
 * - One UDP socket per address family for the whole client; responses are matched by NAS address,
 *   port and identifier.
 * - Identifiers are allocated per NAS: at most 256 requests to one NAS are in flight, the next waits
 *   for a free identifier, so concurrent requests never collide. Allocation is round-robin, so a late
 *   answer to a finished request rarely finds its identifier reused.
 * - A request is retransmitted unchanged (same identifier and authenticator, RFC 5080 §2.2.1) after
 *   each `timeout` without a valid answer, `retries` times.
 * - Responses are authenticated (Response Authenticator, and the Message-Authenticator when present).
 *   One that fails is discarded as the RFC demands and the request keeps waiting; if no valid answer
 *   comes, the failure is {@link RadiusInvalidResponse} (the NAS answered, but not with our secret)
 *   rather than {@link RadiusTimeout}.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { lookup } from "node:dns/promises"
import * as Dgram from "node:dgram"
import { isIPv6 } from "node:net"
import {
  decodeResponse,
  type DecodedPacket,
  type DynamicAuthRequestCode,
  encodeRequest,
  errorCause,
  mikrotik,
  type RadiusAttribute
} from "./RadiusCodec.js"

/**
 * Where to send: the NAS's dynamic-authorization address, port (default 3799) and shared secret.
 *
 * @since 0.1.0
 */
export interface NasEndpoint {
  readonly host: string
  readonly port?: number | undefined
  readonly secret: string
}

/**
 * The NAS acknowledged (CoA-ACK or Disconnect-ACK).
 *
 * @since 0.1.0
 */
export class CoaAck extends Data.TaggedClass("CoaAck")<{
  readonly code: "CoA-ACK" | "Disconnect-ACK"
  readonly attributes: Readonly<Record<string, unknown>>
}> {}

/**
 * The NAS refused (CoA-NAK or Disconnect-NAK), usually with an RFC 5176 Error-Cause such as
 * 503 Session-Context-Not-Found.
 *
 * @since 0.1.0
 */
export class CoaNak extends Data.TaggedClass("CoaNak")<{
  readonly code: "CoA-NAK" | "Disconnect-NAK"
  readonly errorCause?: number | undefined
  readonly errorCauseName?: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
}> {}

/**
 * What a NAS answered.
 *
 * @since 0.1.0
 */
export type CoaResult = CoaAck | CoaNak

/**
 * No valid answer after every transmission.
 *
 * @since 0.1.0
 */
export class RadiusTimeout extends Schema.TaggedError<RadiusTimeout>()("RadiusTimeout", {
  nas: Schema.String,
  attempts: Schema.Number
}) {
  override get message() {
    return `RADIUS request to ${this.nas}: no answer after ${this.attempts} attempt(s)`
  }
}

/**
 * The NAS answered, but no answer could be accepted (authenticator mismatch: usually a wrong shared
 * secret; or an unexpected packet code).
 *
 * @since 0.1.0
 */
export class RadiusInvalidResponse extends Schema.TaggedError<RadiusInvalidResponse>()("RadiusInvalidResponse", {
  nas: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `RADIUS request to ${this.nas}: invalid response: ${this.reason}`
  }
}

/**
 * The request could not be sent: attributes the dictionary cannot encode, an unresolvable host, a
 * socket error.
 *
 * @since 0.1.0
 */
export class RadiusRequestError extends Schema.TaggedError<RadiusRequestError>()("RadiusRequestError", {
  nas: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `RADIUS request to ${this.nas} not sent: ${this.reason}`
  }
}

/**
 * Any failure of a dynamic-authorization request.
 *
 * @since 0.1.0
 */
export type CoaError = RadiusTimeout | RadiusInvalidResponse | RadiusRequestError

/**
 * Which session a request addresses (RFC 5176 §3: User-Name plus whatever the NAS needs to find the
 * session; MikroTik matches on User-Name with Framed-IP-Address or Acct-Session-Id).
 *
 * @since 0.1.0
 */
export interface SessionSelector {
  readonly userName: string
  readonly framedIp?: string | undefined
  readonly sessionId?: string | undefined
  /** Any further attributes, appended as given. */
  readonly attributes?: ReadonlyArray<RadiusAttribute> | undefined
}

/**
 * A CoA changing a session's MikroTik rate limit (`"2M/2M"`, RouterOS `rx/tx` syntax, as in
 * `Mikrotik-Rate-Limit`) and/or its address list (e.g. the walled-garden list).
 *
 * @since 0.1.0
 */
export interface ChangeRateRequest extends SessionSelector {
  readonly rateLimit?: string | undefined
  readonly addressList?: string | undefined
}

/**
 * The client's tunables.
 *
 * @since 0.1.0
 */
export interface CoaClientConfig {
  /** Wait for an answer per transmission (default 2 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retransmissions after the first send (default 2, so 3 attempts). */
  readonly retries?: number | undefined
  /** Add a Message-Authenticator to requests (default true; RFC 5176 recommends it). */
  readonly messageAuthenticator?: boolean | undefined
}

/**
 * The client.
 *
 * @since 0.1.0
 */
export interface CoaClientService {
  /** Sends one request with the given attributes and returns the decoded answer. */
  readonly request: (
    nas: NasEndpoint,
    code: DynamicAuthRequestCode,
    attributes: ReadonlyArray<RadiusAttribute>
  ) => Effect.Effect<CoaResult, CoaError>
  /** CoA-Request with User-Name, Framed-IP-Address, Acct-Session-Id, Mikrotik-Rate-Limit, Mikrotik-Address-List. */
  readonly changeRate: (nas: NasEndpoint, request: ChangeRateRequest) => Effect.Effect<CoaResult, CoaError>
  /** Disconnect-Request with User-Name, Framed-IP-Address, Acct-Session-Id. */
  readonly disconnect: (nas: NasEndpoint, request: SessionSelector) => Effect.Effect<CoaResult, CoaError>
}

/**
 * The client as a service.
 *
 * @since 0.1.0
 */
export class CoaClient extends Context.Tag("@isp-framework/adapters/CoaClient")<CoaClient, CoaClientService>() {}

/**
 * The default RFC 5176 port.
 *
 * @since 0.1.0
 */
export const DEFAULT_COA_PORT = 3799

/**
 * The session-selecting attributes of a request.
 *
 * @since 0.1.0
 */
export const sessionAttributes = (selector: SessionSelector): Array<RadiusAttribute> => [
  ["User-Name", selector.userName],
  ...(selector.framedIp ? [["Framed-IP-Address", selector.framedIp] as const] : []),
  ...(selector.sessionId ? [["Acct-Session-Id", selector.sessionId] as const] : [])
]

/**
 * The attributes {@link CoaClientService.changeRate} sends.
 *
 * @since 0.1.0
 */
export const changeRateAttributes = (request: ChangeRateRequest): Array<RadiusAttribute> => [
  ...sessionAttributes(request),
  ...(request.rateLimit !== undefined ? [mikrotik("Mikrotik-Rate-Limit", request.rateLimit)] : []),
  ...(request.addressList !== undefined ? [mikrotik("Mikrotik-Address-List", request.addressList)] : []),
  ...(request.attributes ?? [])
]

interface Pending {
  readonly request: Buffer
  readonly secret: string
  readonly expected: ReadonlyArray<string>
  readonly answer: Deferred.Deferred<DecodedPacket>
  invalid: string | undefined
}

/** Per-NAS identifier space. */
interface IdentifierSpace {
  readonly permits: Effect.Semaphore
  readonly inUse: Set<number>
  next: number
}

class AttemptTimedOut extends Data.TaggedError("AttemptTimedOut")<{}> {}

const expectedCodes = (code: DynamicAuthRequestCode): ReadonlyArray<string> =>
  code === "CoA-Request" ? ["CoA-ACK", "CoA-NAK"] : ["Disconnect-ACK", "Disconnect-NAK"]

const toResult = (packet: DecodedPacket): CoaResult => {
  if (packet.code === "CoA-ACK" || packet.code === "Disconnect-ACK") {
    return new CoaAck({ code: packet.code, attributes: packet.attributes })
  }
  const cause = errorCause(packet)
  return new CoaNak({
    code: packet.code as "CoA-NAK" | "Disconnect-NAK",
    attributes: packet.attributes,
    ...(cause === undefined ? {} : { errorCause: cause.code }),
    ...(cause?.name === undefined ? {} : { errorCauseName: cause.name })
  })
}

/**
 * Builds a client bound to the scope (its sockets close with it).
 *
 * @since 0.1.0
 */
export const make = (config: CoaClientConfig = {}): Effect.Effect<CoaClientService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = Duration.decode(config.timeout ?? Duration.seconds(2))
    const retries = Math.max(0, Math.floor(config.retries ?? 2))
    const withMessageAuthenticator = config.messageAuthenticator ?? true
    const pending = new Map<string, Pending>()
    const spaces = new Map<string, IdentifierSpace>()

    const onMessage = (message: Buffer, from: Dgram.RemoteInfo) => {
      if (message.length < 20) return
      const entry = pending.get(`${from.address}|${from.port}|${message[1]}`)
      if (entry === undefined) return
      try {
        const decoded = decodeResponse(entry.request, message, entry.secret)
        if (!entry.expected.includes(decoded.code)) {
          entry.invalid = `unexpected ${decoded.code}`
          return
        }
        Deferred.unsafeDone(entry.answer, Effect.succeed(decoded))
      } catch (error) {
        entry.invalid = error instanceof Error ? error.message : String(error)
      }
    }

    const openSocket = (type: "udp4" | "udp6") =>
      Effect.acquireRelease(
        Effect.async<Dgram.Socket, RadiusRequestError>((resume) => {
          const socket = Dgram.createSocket(type)
          socket.once("error", (error) =>
            resume(Effect.fail(new RadiusRequestError({ nas: type, reason: `cannot bind: ${error.message}` }))))
          socket.bind(0, () => {
            socket.removeAllListeners("error")
            // Late errors (ICMP unreachable and the like) must not crash the process; the request times out.
            socket.on("error", () => {})
            socket.on("message", onMessage)
            resume(Effect.succeed(socket))
          })
        }),
        (socket) => Effect.sync(() => socket.close())
      )

    const scope = yield* Effect.scope
    const udp4 = yield* Effect.cached(openSocket("udp4").pipe(Scope.extend(scope)))
    const udp6 = yield* Effect.cached(openSocket("udp6").pipe(Scope.extend(scope)))

    const spaceFor = (key: string): IdentifierSpace => {
      let space = spaces.get(key)
      if (space === undefined) {
        space = { permits: Effect.unsafeMakeSemaphore(256), inUse: new Set(), next: Math.floor(Math.random() * 256) }
        spaces.set(key, space)
      }
      return space
    }

    /** Holds an identifier for the scope; the semaphore guarantees a free one exists. */
    const takeIdentifier = (space: IdentifierSpace) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          let id = space.next
          while (space.inUse.has(id)) id = (id + 1) % 256
          space.inUse.add(id)
          space.next = (id + 1) % 256
          return id
        }),
        (id) => Effect.sync(() => space.inUse.delete(id))
      )

    const resolve = (nas: string, host: string) =>
      Effect.tryPromise({
        try: () => lookup(host),
        catch: (error) => new RadiusRequestError({ nas, reason: `cannot resolve ${host}: ${String(error)}` })
      })

    const send = (socket: Dgram.Socket, packet: Buffer, port: number, address: string, nas: string) =>
      Effect.async<void, RadiusRequestError>((resume) => {
        socket.send(packet, port, address, (error) =>
          resume(
            error ? Effect.fail(new RadiusRequestError({ nas, reason: `send failed: ${error.message}` })) : Effect.void
          ))
      })

    const request = Effect.fn("CoaClient.request")(function*(
      nas: NasEndpoint,
      code: DynamicAuthRequestCode,
      attributes: ReadonlyArray<RadiusAttribute>
    ) {
      const port = nas.port ?? DEFAULT_COA_PORT
      const label = `${nas.host}:${port}`
      yield* Effect.annotateCurrentSpan({ "radius.nas": label, "radius.code": code })
      const address = isIPv6(nas.host) || /^\d+\.\d+\.\d+\.\d+$/.test(nas.host)
        ? { address: nas.host, family: isIPv6(nas.host) ? 6 : 4 }
        : yield* resolve(label, nas.host)
      const socket = yield* (address.family === 6 ? udp6 : udp4).pipe(
        Effect.mapError((error) => new RadiusRequestError({ nas: label, reason: error.reason }))
      )
      const space = spaceFor(`${address.address}|${port}`)
      return yield* space.permits.withPermits(1)(Effect.scoped(Effect.gen(function*() {
        const identifier = yield* takeIdentifier(space)
        const packet = yield* Effect.try({
          try: () =>
            encodeRequest({ code, identifier, secret: nas.secret, attributes, messageAuthenticator: withMessageAuthenticator }),
          catch: (error) => new RadiusRequestError({ nas: label, reason: error instanceof Error ? error.message : String(error) })
        })
        const answer = yield* Deferred.make<DecodedPacket>()
        const entry: Pending = { request: packet, secret: nas.secret, expected: expectedCodes(code), answer, invalid: undefined }
        const key = `${address.address}|${port}|${identifier}`
        yield* Effect.acquireRelease(
          Effect.sync(() => pending.set(key, entry)),
          () => Effect.sync(() => pending.delete(key))
        )
        let attempts = 0
        const attempt = Effect.suspend(() => {
          attempts++
          return send(socket, packet, port, address.address, label)
        }).pipe(
          Effect.zipRight(Deferred.await(answer).pipe(
            Effect.timeoutFail({ duration: timeout, onTimeout: () => new AttemptTimedOut() })
          ))
        )
        const decoded = yield* attempt.pipe(
          Effect.retry({ schedule: Schedule.recurs(retries), while: (error) => error._tag === "AttemptTimedOut" }),
          Effect.catchTag("AttemptTimedOut", (): Effect.Effect<never, RadiusInvalidResponse | RadiusTimeout> =>
            entry.invalid !== undefined
              ? Effect.fail(new RadiusInvalidResponse({ nas: label, reason: entry.invalid }))
              : Effect.fail(new RadiusTimeout({ nas: label, attempts })))
        )
        return toResult(decoded)
      })))
    })

    return CoaClient.of({
      request,
      changeRate: (nas, change) =>
        request(nas, "CoA-Request", changeRateAttributes(change)).pipe(Effect.withSpan("CoaClient.changeRate")),
      disconnect: (nas, selector) =>
        request(nas, "Disconnect-Request", [...sessionAttributes(selector), ...(selector.attributes ?? [])]).pipe(
          Effect.withSpan("CoaClient.disconnect")
        )
    })
  })

/**
 * The client as a Layer.
 *
 * @since 0.1.0
 */
export const layer = (config: CoaClientConfig = {}): Layer.Layer<CoaClient> => Layer.scoped(CoaClient, make(config))
