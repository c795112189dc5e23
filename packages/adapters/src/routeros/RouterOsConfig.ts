/**
 * How to reach one MikroTik router over the RouterOS API.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { ConnectionOptions } from "node:tls"

/**
 * Connection settings of one router.
 *
 * @since 0.1.0
 */
export interface RouterOsConfig {
  readonly host: string
  /** Default 8728, or 8729 with `tls`. */
  readonly port?: number | undefined
  readonly user: string
  readonly password: string
  /** Limit for each command (and, unless `connectTimeout` is set, for connect + login). Default 10 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Limit for TCP connect + login. Default: `timeout`. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** API-SSL: `true` for default TLS options, or node TLS options. */
  readonly tls?: boolean | ConnectionOptions | undefined
  /** Connections kept per router; operations beyond it wait for a free one. Default 2. */
  readonly poolSize?: number | undefined
  /** An idle connection is closed by the socket after this long without traffic. Default 60 s. */
  readonly idleTimeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 */
export const defaults = {
  timeout: "10 seconds",
  poolSize: 2,
  idleTimeout: "60 seconds"
} as const
