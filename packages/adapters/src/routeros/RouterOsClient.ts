/**
 * RouterOS API commands over a small connection pool per router (node-routeros underneath).
 *
 * - Connections open lazily, at most `poolSize` per router; an operation holds one connection
 *   for its whole run (`withConnection`), so its commands go out in order.
 * - Connect + login and every command run under Effect timeouts (`RouterTimeout`).
 * - A connection that broke, timed out or was interrupted mid-command is destroyed, never reused:
 *   the next operation opens a fresh one (reconnect). A `!trap` leaves the connection healthy.
 * - Everything is closed when the layer's scope closes.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Connection from "./internal/connection.js"
import type { RouterOsConfig } from "./RouterOsConfig.js"
import { defaults } from "./RouterOsConfig.js"
import type { RouterOsError } from "./RouterOsErrors.js"
import { RouterNotConfigured } from "./RouterOsErrors.js"

/**
 * A row as RouterOS prints it (`.id`, then properties), every value a string.
 *
 * @since 0.1.0
 */
export type Row = Connection.Row

/**
 * Where router configurations come from: a fixed record, or a lookup (e.g. from the database)
 * that yields `undefined` for an unknown router. A lookup is consulted for every new connection.
 *
 * @since 0.1.0
 */
export type RouterOsRouters =
  | Readonly<Record<string, RouterOsConfig>>
  | ((routerId: string) => Effect.Effect<RouterOsConfig | undefined>)

/**
 * Commands on one pooled connection.
 *
 * @since 0.1.0
 */
export interface RouterOsSession {
  readonly routerId: string
  /** Runs `command` (e.g. `/queue/simple/print`) with API words (`=k=v`, `?k=v`); the `!re` rows. */
  readonly command: (command: string, words?: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Row>, RouterOsError>
}

/**
 * @since 0.1.0
 */
export interface RouterOsClient {
  /** Runs `f` with one connection of the router's pool held for its whole run. */
  readonly withConnection: <A, E, R>(
    routerId: string,
    f: (session: RouterOsSession) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | RouterOsError, R>
  /** One command on a pooled connection. */
  readonly command: (
    routerId: string,
    command: string,
    words?: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<Row>, RouterOsError>
}

/**
 * @since 0.1.0
 */
export const RouterOsClient = Context.GenericTag<RouterOsClient>("@isp-framework/adapters/RouterOsClient")

interface Pool {
  /** One token per connection slot. A FIFO queue wakes exactly one waiter per release (Effect 3's
   * Semaphore wakes every waiter on each release: quadratic with hundreds of queued operations). */
  readonly slots: Queue.Queue<void>
  readonly idle: Array<Connection.Connection>
  readonly open: Set<Connection.Connection>
}

/**
 * Builds a client; every connection is closed when the scope closes.
 *
 * @since 0.1.0
 */
export const make = (routers: RouterOsRouters): Effect.Effect<RouterOsClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pools = new Map<string, Pool>()
    let closed = false

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        const all = [...pools.values()].flatMap((pool) => [...pool.open])
        pools.clear()
        return Effect.forEach(all, Connection.close, { concurrency: "unbounded", discard: true })
      })
    )

    const lookup = (routerId: string): Effect.Effect<RouterOsConfig, RouterNotConfigured> =>
      (typeof routers === "function" ? routers(routerId) : Effect.succeed(routers[routerId])).pipe(
        Effect.flatMap((config) =>
          config === undefined ? Effect.fail(new RouterNotConfigured({ routerId })) : Effect.succeed(config)
        )
      )

    const poolFor = (routerId: string, config: RouterOsConfig): Effect.Effect<Pool> =>
      Effect.gen(function*() {
        const existing = pools.get(routerId)
        if (existing) return existing
        const slots = yield* Queue.unbounded<void>()
        const raced = pools.get(routerId)
        if (raced) return raced
        const pool: Pool = { slots, idle: [], open: new Set() }
        pools.set(routerId, pool)
        yield* Queue.offerAll(slots, Array.from({ length: Math.max(1, config.poolSize ?? defaults.poolSize) }, () => {}))
        return pool
      })

    const discard = (pool: Pool, connection: Connection.Connection) =>
      Effect.sync(() => {
        pool.open.delete(connection)
        connection.alive = false
        Connection.destroyApi(connection.api)
      })

    const checkout = (routerId: string, config: RouterOsConfig, pool: Pool) =>
      Effect.suspend(() => {
        // Idle connections may have died while parked (router restart, idle timeout): skip those.
        for (let c = pool.idle.pop(); c !== undefined; c = pool.idle.pop()) {
          if (c.alive) return Effect.succeed(c)
          pool.open.delete(c)
          Connection.destroyApi(c.api)
        }
        return Connection.connect(routerId, config).pipe(
          Effect.tap((c) =>
            Effect.sync(() => {
              pool.open.add(c)
            })
          )
        )
      })

    const withConnection = <A, E, R>(
      routerId: string,
      f: (session: RouterOsSession) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | RouterOsError, R> =>
      Effect.gen(function*() {
        const config = yield* lookup(routerId)
        const pool = yield* poolFor(routerId, config)
        const timeout = Duration.decode(config.timeout ?? defaults.timeout)
        const withSlot = <A2, E2, R2>(self: Effect.Effect<A2, E2, R2>) =>
          Effect.uninterruptibleMask((restore) =>
            Effect.zipRight(
              restore(Queue.take(pool.slots)),
              restore(self).pipe(Effect.ensuring(Queue.offer(pool.slots, undefined)))
            )
          )
        return yield* withSlot(
          Effect.acquireUseRelease(
            // Acquisition is uninterruptible by default, which would stop the connect timeout from firing.
            Effect.interruptible(checkout(routerId, config, pool)),
            (connection) => {
              // Set when a command failed in a way that leaves the connection's state unknown.
              let broken = false
              const session: RouterOsSession = {
                routerId,
                command: (command, words = []) =>
                  Connection.run(connection, command, words, timeout).pipe(
                    Effect.tapError((e) =>
                      Effect.sync(() => {
                        if (e._tag !== "RouterTrap") broken = true
                      })
                    ),
                    Effect.onInterrupt(() =>
                      Effect.sync(() => {
                        broken = true
                      })
                    )
                  )
              }
              return f(session).pipe(
                Effect.ensuring(Effect.sync(() => {
                  if (broken) connection.alive = false
                }))
              )
            },
            (connection, exit) =>
              connection.alive && !closed && !Exit.isInterrupted(exit)
                ? Effect.sync(() => void pool.idle.push(connection))
                : discard(pool, connection)
          )
        )
      })

    return RouterOsClient.of({
      withConnection,
      command: (routerId, command, words) => withConnection(routerId, (session) => session.command(command, words))
    })
  })

/**
 * A layer providing {@link RouterOsClient} for the given routers.
 *
 * @since 0.1.0
 */
export const layer = (routers: RouterOsRouters): Layer.Layer<RouterOsClient> =>
  Layer.scoped(RouterOsClient, make(routers))
