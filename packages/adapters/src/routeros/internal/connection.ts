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
import * as Deferred from "effect/Deferred"
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
  /** Completed with the reason when the connection breaks. */
  readonly gone: Deferred.Deferred<string>
  alive: boolean
}

let connectionSeq = 0

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
    const gone = yield* Deferred.make<string>()
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
    const connection: Connection = { id: ++connectionSeq, routerId, api, gone, alive: true }
    const markGone = (reason: string) => {
      connection.alive = false
      Deferred.unsafeDone(gone, Effect.succeed(reason))
    }
    api.on("error", (e: unknown) => markGone(`connection error: ${describe(e)}`))
    api.on("close", () => markGone("connection closed by the router"))

    const timeout = Duration.decode(config.connectTimeout ?? config.timeout ?? defaults.timeout)
    yield* Effect.tryPromise({
      try: () => api.connect(),
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
  const lost = Deferred.await(connection.gone).pipe(
    Effect.flatMap((reason) => Effect.fail(new RouterUnreachable({ routerId, operation: command, reason })))
  )
  const write = Effect.suspend(() =>
    connection.alive
      ? Effect.tryPromise({
        try: () => connection.api.write(command, [...words]) as Promise<Array<Row>>,
        catch: (e) =>
          // node-routeros rejects a `!trap` with a plain Error carrying the trap's message.
          connection.alive && e instanceof Error && (e as { errno?: unknown }).errno === undefined
            ? new RouterTrap({ routerId, command, message: e.message })
            : new RouterUnreachable({ routerId, operation: command, reason: describe(e) })
      })
      : lost
  )
  return Effect.raceFirst(write, lost).pipe(
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
