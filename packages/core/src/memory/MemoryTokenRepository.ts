/**
 * In-memory {@link TokenRepository}.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Option, Ref } from "effect"
import { ApiToken, TokenNotFound } from "../domain/ApiToken.js"
import { Conflict } from "../domain/Errors.js"
import { TokenRepository } from "../ports/TokenRepository.js"

/** A fresh, empty repository. */
export const make: Effect.Effect<TokenRepository> = Effect.gen(function*() {
  const ref = yield* Ref.make(new Map<string, ApiToken>())
  return TokenRepository.of({
    insert: (token) =>
      Effect.flatten(Ref.modify(ref, (m): [Effect.Effect<void, Conflict>, Map<string, ApiToken>] => {
        if (m.has(token.id)) return [Effect.fail(new Conflict({ field: "id", value: token.id })), m]
        m.set(token.id, token)
        return [Effect.void, m]
      })),
    findById: (id) => Effect.map(Ref.get(ref), (m) => Option.fromNullable(m.get(id))),
    revoke: (id, at) =>
      Effect.flatten(Ref.modify(ref, (m): [Effect.Effect<ApiToken, TokenNotFound>, Map<string, ApiToken>] => {
        const current = m.get(id)
        if (current === undefined) return [Effect.fail(new TokenNotFound({ tokenId: id })), m]
        const next = current.revokedAt === null ? new ApiToken({ ...current, revokedAt: at }) : current
        m.set(id, next)
        return [Effect.succeed(next), m]
      }))
  })
})

export const layer: Layer.Layer<TokenRepository> = Layer.effect(TokenRepository, make)
