/**
 * Bootstrap: checks the server is new enough for what later migrations use (`gen_random_uuid()` is
 * core from PostgreSQL 13), and adds a shared `updated_at` trigger function. Only core PostgreSQL and
 * PL/pgSQL: no `CREATE EXTENSION`, so it runs unchanged on PGlite.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ version: number }>`SELECT current_setting('server_version_num')::int4 AS version`
  if (row === undefined || row.version < 130000) {
    return yield* Effect.dieMessage(
      `PostgreSQL 13 or newer is required (server_version_num = ${row?.version ?? "unknown"})`
    )
  }
  // Tables opt in with: CREATE TRIGGER … BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION isp_touch_updated_at()
  yield* sql`
    CREATE OR REPLACE FUNCTION isp_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END
    $$`
})
