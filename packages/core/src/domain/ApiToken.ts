/**
 * API tokens and the principals they stand for. A token is opaque to its holder; only its SHA-256
 * hash is stored, so a leaked table grants nothing. `api` tokens act as the ISP (admin); `customer`
 * tokens are bound to one customer (the customer portal).
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { CustomerId } from "./Ids.js"

/** Id of an API token (the public part of the token string). */
export const TokenId = Schema.UUID.pipe(Schema.brand("TokenId"))
export type TokenId = typeof TokenId.Type

/** `api`: may do everything; `customer`: may read one customer's services, usage and alerts. */
export const TokenScope = Schema.Literal("api", "customer")
export type TokenScope = typeof TokenScope.Type

/** A stored token: never the secret itself, only its SHA-256 hash (hex). */
export class ApiToken extends Schema.Class<ApiToken>("ApiToken")({
  id: TokenId,
  scope: TokenScope,
  /** Set exactly for `customer` tokens. */
  customerId: Schema.NullOr(CustomerId),
  name: Schema.String,
  /** Hex SHA-256 of the whole token string. */
  secretHash: Schema.String,
  createdAt: Schema.DateTimeUtc,
  expiresAt: Schema.NullOr(Schema.DateTimeUtc),
  revokedAt: Schema.NullOr(Schema.DateTimeUtc)
}) {}

/** Who is calling: the ISP itself (admin) or one customer. */
export type Principal =
  | { readonly _tag: "Admin"; readonly subject: string }
  | { readonly _tag: "Customer"; readonly customerId: CustomerId; readonly subject: string }

export class TokenNotFound extends Schema.TaggedError<TokenNotFound>()(
  "TokenNotFound",
  { tokenId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {
  override get message() {
    return `API token ${this.tokenId} not found`
  }
}
