/**
 * PostgreSQL `FramedIpLookup`: the service holding a Framed-IP-Address is the one with a live
 * (`released_at IS NULL`) row in `ip_assignments` (migration 0003_ip_pools). The unique live-slot
 * index guarantees at most one live holder per pool; across pools (overlapping private ranges) the
 * newest live assignment wins.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { FramedIpLookup, type ServiceId } from "@isp-framework/core"
import { orDieSql } from "../internal/rows.js"

/** Builds the lookup over a migrated `SqlClient`. */
export const make: Effect.Effect<FramedIpLookup, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return FramedIpLookup.of({
    byAddress: (address) =>
      sql`
        SELECT service_id FROM ip_assignments
        WHERE address = ${address} AND released_at IS NULL
        ORDER BY assigned_at DESC LIMIT 1`.pipe(
        orDieSql,
        Effect.map((rows) => Option.fromNullable(rows[0]?.["serviceId"] as string | undefined).pipe(
          Option.map((id) => id as ServiceId)
        )),
        Effect.withSpan("PgFramedIpLookup.byAddress")
      )
  })
})

/** The Postgres Framed-IP lookup (needs a migrated `SqlClient`). */
export const layer: Layer.Layer<FramedIpLookup, never, SqlClient.SqlClient> = Layer.effect(FramedIpLookup, make)
