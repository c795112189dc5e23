/**
 * Filter-dict errors. Both are caller mistakes (HTTP 400) and name what was wrong, so an API
 * client can point at the offending query parameter.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** A filter key that is unknown, uses an operator that does not fit its field, or has a bad value. */
export class InvalidFilter extends Schema.TaggedError<InvalidFilter>()(
  "InvalidFilter",
  { key: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {
  override get message() {
    return `Invalid filter "${this.key}": ${this.reason}`
  }
}

/** A pagination cursor that is malformed, or that was issued for a different ordering or entity. */
export class InvalidCursor extends Schema.TaggedError<InvalidCursor>()(
  "InvalidCursor",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {
  override get message() {
    return `Invalid cursor: ${this.reason}`
  }
}
