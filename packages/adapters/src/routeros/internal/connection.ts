/**
 * One RouterOS API connection over node-routeros, made safe to hold in a pool:
 *
 * - node-routeros emits `error` on its `RouterOSAPI` after login when the socket fails or idles out;
 *   an `error` event without a listener would crash the process, so a listener is always attached.
 * - When the socket closes, node-routeros never settles the promises of commands in flight: every
 *   command races a "gone" signal so it fails at once with `RouterUnreachable` instead of hanging.
 * - Closing a connection whose router hangs never completes (`close()` waits for the peer), so a
 *   broken connection is destroyed outright, with node-routeros' private keep-alive timers cleared.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { RouterOSAPI } from "node-routeros"
import { constants as osConstants } from "node:os"
import type { TlsOptions } from "node:tls"
import type { RouterOsConfig } from "../RouterOsConfig.js"
import { defaults } from "../RouterOsConfig.js"
import { RouterLoginFailed, RouterTimeout, RouterTrap, RouterUnreachable } from "../RouterOsErrors.js"

/** A row as node-routeros parses it: every value a string. */
export type Row = Readonly<Record<string, string>>

export interface Connection {
  readonly id: number
  readonly routerId: string
  readonly api: RouterOSAPI
  alive: boolean
  /** Why the connection broke, once it has. */
  goneReason: string | undefined
  /** Commands in flight, told when the connection breaks. */
  readonly inFlight: Set<(reason: string) => void>
}

let connectionSeq = 0

/** The parts of node-routeros' private Connector touched here. */
interface SocketOwner {
  socket?: { setNoDelay(noDelay: boolean): void; cork(): void; uncork(): void }
  write(data: Array<string>): unknown
}

const errnoName = (errno: unknown): string | undefined => {
  if (typeof errno === "string") return errno
  if (typeof errno === "number") {
    return Object.entries(osConstants.errno).find(([, v]) => v === -errno || v === errno)?.[0]
  }
  return undefined
}

const describe = (e: unknown): string => {
  if (e instanceof Error) {
    const name = errnoName((e as { errno?: unknown }).errno)
    return [name, e.message].filter((s) => s !== undefined && s !== "").join(": ") || e.name
  }
  return String(e)
}

/** Tears a connection down now, whatever its state; never throws. */
export const destroyApi = (api: RouterOSAPI): void => {
  // node-routeros keeps these private; they would otherwise fire once more after the socket is gone.
  const internals = api as unknown as {
    connectionHoldInterval?: ReturnType<typeof setTimeout>
    keptaliveby?: ReturnType<typeof setTimeout>
    connector?: { destroy(): void } | null
  }
  try {
    clearTimeout(internals.connectionHoldInterval)
    clearTimeout(internals.keptaliveby)
    internals.connector?.destroy()
  } catch {
    // already destroyed
  }
  api.connected = false
}

/** Connects and logs in, within the connect timeout. */
export const connect = (
  routerId: string,
  config: RouterOsConfig
): Effect.Effect<Connection, RouterUnreachable | RouterTimeout | RouterLoginFailed> =>
  Effect.gen(function*() {
    const idleSeconds = Math.max(1, Math.round(Duration.toSeconds(config.idleTimeout ?? defaults.idleTimeout)))
    const api = new RouterOSAPI({
      host: config.host,
      user: config.user,
      password: config.password,
      timeout: idleSeconds,
      ...(config.port !== undefined ? { port: config.port } : {}),
      // node-routeros hands these to tls.connect, whose options type it names TlsOptions.
      ...(config.tls ? { tls: (config.tls === true ? {} : config.tls) as TlsOptions } : {})
    })
    const connection: Connection = {
      id: ++connectionSeq,
      routerId,
      api,
      alive: true,
      goneReason: undefined,
      inFlight: new Set()
    }
    const markGone = (reason: string) => {
      connection.alive = false
      connection.goneReason ??= reason
      for (const notify of [...connection.inFlight]) notify(reason)
      connection.inFlight.clear()
    }
    api.on("error", (e: unknown) => markGone(`connection error: ${describe(e)}`))
    api.on("close", () => markGone("connection closed by the router"))

    const timeout = Duration.decode(config.connectTimeout ?? config.timeout ?? defaults.timeout)
    yield* Effect.tryPromise({
      try: () => {
        const connecting = api.connect()
        // node-routeros writes each word separately: without TCP_NODELAY, Nagle + the peer's delayed ACK
        // cost ~40 ms per command. The socket exists once connect() has been called.
        // It also writes each word with its own socket.write: cork the socket around a command so a
        // sentence leaves as one segment.
        const connector = (api as unknown as { connector?: SocketOwner }).connector
        const socket = connector?.socket
        if (connector && socket && typeof socket.cork === "function") {
          socket.setNoDelay(true)
          const write = connector.write.bind(connector)
          connector.write = (data) => {
            socket.cork()
            try {
              return write(data)
            } finally {
              socket.uncork()
            }
          }
        }
        return connecting
      },
      catch: (e) => {
        const errno = (e as { errno?: unknown } | undefined)?.errno
        if (errno === "CANTLOGIN") {
          return new RouterLoginFailed({ routerId, user: config.user, reason: describe(e) })
        }
        if (errno === "SOCKTMOUT") {
          return new RouterTimeout({ routerId, operation: "connect", timeoutMillis: idleSeconds * 1000 })
        }
        // A bare Error (no errno) during connect is a `!trap` to /login.
        if (e instanceof Error && errno === undefined) {
          return new RouterLoginFailed({ routerId, user: config.user, reason: e.message })
        }
        return new RouterUnreachable({ routerId, operation: "connect", reason: describe(e) })
      }
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new RouterTimeout({ routerId, operation: "connect", timeoutMillis: Duration.toMillis(timeout) })
      }),
      Effect.onError(() => Effect.sync(() => destroyApi(api)))
    )
    return connection
  })

/** Runs one command; fails with `RouterTrap` on `!trap`, `RouterUnreachable` if the connection breaks. */
export const run = (
  connection: Connection,
  command: string,
  words: ReadonlyArray<string>,
  timeout: Duration.Duration
): Effect.Effect<ReadonlyArray<Row>, RouterTrap | RouterUnreachable | RouterTimeout> => {
  const { routerId } = connection
  const unreachable = (reason: string) => new RouterUnreachable({ routerId, operation: command, reason })
  // One callback per command (no racing fibers): it settles on the reply or when the connection breaks.
  const write = Effect.async<ReadonlyArray<Row>, RouterTrap | RouterUnreachable>((resume) => {
    if (!connection.alive) return resume(Effect.fail(unreachable(connection.goneReason ?? "connection closed")))
    let settled = false
    const settle = (effect: Effect.Effect<ReadonlyArray<Row>, RouterTrap | RouterUnreachable>) => {
      if (settled) return
      settled = true
      connection.inFlight.delete(onGone)
      resume(effect)
    }
    const onGone = (reason: string) => settle(Effect.fail(unreachable(reason)))
    connection.inFlight.add(onGone)
    let pending: Promise<Array<Row>>
    try {
      pending = connection.api.write(command, [...words]) as Promise<Array<Row>>
    } catch (e) {
      return settle(Effect.fail(unreachable(describe(e))))
    }
    pending.then(
      (rows) => settle(Effect.succeed(rows)),
      (e) =>
        settle(Effect.fail(
          // node-routeros rejects a `!trap` with a plain Error carrying the trap's message.
          connection.alive && e instanceof Error && (e as { errno?: unknown }).errno === undefined
            ? new RouterTrap({ routerId, command, message: e.message })
            : unreachable(connection.goneReason ?? describe(e))
        ))
    )
    return Effect.sync(() => {
      settled = true
      connection.inFlight.delete(onGone)
    })
  })
  return write.pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new RouterTimeout({ routerId, operation: command, timeoutMillis: Duration.toMillis(timeout) })
    })
  )
}

/** Ends a healthy connection politely (bounded), then destroys it. */
export const close = (connection: Connection): Effect.Effect<void> =>
  Effect.tryPromise(() => connection.api.close()).pipe(
    Effect.timeout("1 second"),
    Effect.ignore,
    Effect.ensuring(Effect.sync(() => destroyApi(connection.api)))
  )
