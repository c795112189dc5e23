/**
 * PostgreSQL `TokenRepository` (table `api_tokens`, migration 0005).
 */
import { SqlClient } from "@effect/sql"
import { ApiToken, Conflict, TokenNotFound, TokenRepository } from "@isp-framework/core"
import { DateTime, Effect, Layer, Option } from "effect"
import { decodeRow, encodeRow, isUniqueViolation, orDieSql } from "./internal/rows.js"

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const decode = decodeRow(ApiToken)
  const encode = encodeRow(ApiToken)

  return TokenRepository.of({
    insert: (token) =>
      sql`INSERT INTO api_tokens ${sql.insert(encode(token))}`.pipe(
        Effect.asVoid,
        Effect.catchIf(
          (e) => e._tag === "SqlError" && isUniqueViolation(e),
          () => Effect.fail(new Conflict({ field: "id", value: token.id }))
        ),
        orDieSql
      ),
    findById: (id) =>
      orDieSql(sql`SELECT * FROM api_tokens WHERE id = ${id}`).pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map(decode)))
      ),
    revoke: (id, at) =>
      orDieSql(sql`
        UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ${DateTime.toDateUtc(at)})
        WHERE id = ${id} RETURNING *`).pipe(
        Effect.flatMap((rows) =>
          rows[0] === undefined ? Effect.fail(new TokenNotFound({ tokenId: id })) : Effect.succeed(decode(rows[0]))
        )
      )
  })
})

export const layer = Layer.effect(TokenRepository, make)
