/**
 * Typed failures of the RouterOS adapter. At the port boundary each becomes the core
 * `RouterError`, its `_tag` and message kept in `reason`.
 *
 * @since 0.1.0
 */
import { RouterError } from "@isp-framework/core"
import * as Schema from "effect/Schema"

/**
 * The router answered `!trap`: the command was understood and refused (or failed).
 * `category` is RouterOS' trap category when the client library passes it on (node-routeros does not).
 *
 * @since 0.1.0
 */
export class RouterTrap extends Schema.TaggedError<RouterTrap>()("RouterTrap", {
  routerId: Schema.String,
  command: Schema.String,
  message: Schema.String,
  category: Schema.optional(Schema.Number)
}) {}

/**
 * The router could not be reached, or the connection broke before a command's reply arrived.
 *
 * @since 0.1.0
 */
export class RouterUnreachable extends Schema.TaggedError<RouterUnreachable>()("RouterUnreachable", {
  routerId: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `router ${this.routerId} unreachable during ${this.operation}: ${this.reason}`
  }
}

/**
 * Connect + login, or a command, did not finish within the configured timeout.
 *
 * @since 0.1.0
 */
export class RouterTimeout extends Schema.TaggedError<RouterTimeout>()("RouterTimeout", {
  routerId: Schema.String,
  operation: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message() {
    return `router ${this.routerId}: ${this.operation} timed out after ${this.timeoutMillis} ms`
  }
}

/**
 * The router refused the user name or password.
 *
 * @since 0.1.0
 */
export class RouterLoginFailed extends Schema.TaggedError<RouterLoginFailed>()("RouterLoginFailed", {
  routerId: Schema.String,
  user: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `router ${this.routerId}: login as ${this.user} failed: ${this.reason}`
  }
}

/**
 * No configuration is known for the router id.
 *
 * @since 0.1.0
 */
export class RouterNotConfigured extends Schema.TaggedError<RouterNotConfigured>()("RouterNotConfigured", {
  routerId: Schema.String
}) {
  override get message() {
    return `no RouterOS configuration for router ${this.routerId}`
  }
}

/**
 * The desired state cannot be expressed on a router (e.g. a DHCP service without a MAC address).
 *
 * @since 0.1.0
 */
export class RouterSpecInvalid extends Schema.TaggedError<RouterSpecInvalid>()("RouterSpecInvalid", {
  routerId: Schema.String,
  serviceId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `router ${this.routerId}: service ${this.serviceId}: ${this.reason}`
  }
}

/**
 * Any failure of a RouterOS command.
 *
 * @since 0.1.0
 */
export type RouterOsError = RouterTrap | RouterUnreachable | RouterTimeout | RouterLoginFailed | RouterNotConfigured

/**
 * Maps an adapter failure to the port's `RouterError`, keeping the typed reason in `reason`.
 *
 * @since 0.1.0
 */
export const toRouterError = (routerId: string, operation: string) =>
(error: RouterOsError | RouterSpecInvalid): RouterError =>
  new RouterError({
    routerId,
    operation,
    reason: error._tag === "RouterTrap"
      ? `RouterTrap: ${error.command}: ${error.message}${error.category !== undefined ? ` (category ${error.category})` : ""}`
      : `${error._tag}: ${error.message}`
  })
