/**
 * API tokens: only the SHA-256 hash of each token is stored (see core `ApiToken`).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE api_tokens (
      id uuid PRIMARY KEY,
      scope text NOT NULL CHECK (scope IN ('api', 'customer')),
      customer_id text COLLATE "C",
      name text NOT NULL,
      secret_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz,
      revoked_at timestamptz,
      CHECK ((scope = 'customer') = (customer_id IS NOT NULL))
    )`
  yield* sql`CREATE INDEX api_tokens_customer ON api_tokens (customer_id) WHERE customer_id IS NOT NULL`
})
