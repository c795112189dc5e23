/**
 * Persistence port for API tokens (hashes only, see `ApiToken`).
 *
 * @since 0.1.0
 */
import { Context, type DateTime, type Effect, type Option } from "effect"
import type { ApiToken, TokenId, TokenNotFound } from "../domain/ApiToken.js"
import type { Conflict } from "../domain/Errors.js"

export interface TokenRepository {
  /** `Conflict` when the id is taken. */
  readonly insert: (token: ApiToken) => Effect.Effect<void, Conflict>
  readonly findById: (id: TokenId) => Effect.Effect<Option.Option<ApiToken>>
  /** Marks the token revoked; revoking twice keeps the first time. */
  readonly revoke: (id: TokenId, at: DateTime.Utc) => Effect.Effect<ApiToken, TokenNotFound>
}

export const TokenRepository = Context.GenericTag<TokenRepository>("@isp-framework/core/TokenRepository")
