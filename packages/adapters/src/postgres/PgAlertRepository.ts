/**
 * PostgreSQL `AlertRepository`. "One open alert per (subject, cause)" is a partial unique index,
 * and `raise` is a single upsert against it — so it holds across app instances, not just fibers.
 */
import { SqlClient } from "@effect/sql"
import {
  AlertAlreadyResolved,
  AlertNotFound,
  AlertRepository,
  FilterDict,
  ServiceAlert,
  uuidv7
} from "@isp-framework/core"
import { DateTime, Effect, Layer, Option } from "effect"
import { searchPage } from "./FilterSql.js"
import { decodeRow, orDieSql } from "./internal/rows.js"


export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const decode = decodeRow(ServiceAlert)
  const one = (rows: ReadonlyArray<Record<string, unknown>>) => Option.fromNullable(rows[0]).pipe(Option.map(decode))

  /** Updates an unresolved alert, or explains why it could not. */
  const transitionAlert = (
    id: string,
    update: Effect.Effect<ReadonlyArray<Record<string, unknown>>, unknown>
  ) =>
    Effect.gen(function*() {
      const rows = yield* update
      if (rows.length > 0) return decode(rows[0]!)
      const exists = yield* sql`SELECT status FROM service_alerts WHERE id = ${id}`
      if (exists.length === 0) return yield* Effect.fail(new AlertNotFound({ alertId: id }))
      return yield* Effect.fail(new AlertAlreadyResolved({ alertId: id }))
    })

  return AlertRepository.of({
    raise: (input, at) =>
      Effect.gen(function*() {
        const now = DateTime.toDateUtc(at)
        const rows = yield* sql`
          INSERT INTO service_alerts (
            id, service_id, customer_id, pool_id, type, severity, status, title, message, cause,
            threshold_value, current_value, created_at, updated_at
          ) VALUES (
            ${uuidv7(now.getTime())}, ${input.serviceId}, ${input.customerId}, ${input.poolId}, ${input.type},
            ${input.severity}, 'OPEN', ${input.title}, ${input.message}, ${input.cause},
            ${input.thresholdValue}, ${input.currentValue}, ${now}, ${now}
          )
          ON CONFLICT ((coalesce(service_id::text, pool_id::text, '')), cause) WHERE status <> 'RESOLVED'
          DO UPDATE SET
            severity = EXCLUDED.severity, title = EXCLUDED.title, message = EXCLUDED.message,
            threshold_value = EXCLUDED.threshold_value, current_value = EXCLUDED.current_value,
            updated_at = EXCLUDED.updated_at
          RETURNING *, (xmax = 0) AS inserted`
        const { inserted, ...row } = rows[0]!
        return { alert: decode(row), created: inserted === true }
      }).pipe(orDieSql),
    findById: (id) => orDieSql(sql`SELECT * FROM service_alerts WHERE id = ${id}`).pipe(Effect.map(one)),
    acknowledge: (id, by, at) =>
      transitionAlert(
        id,
        sql`
          UPDATE service_alerts
          SET status = 'ACKNOWLEDGED', acknowledged_by = coalesce(acknowledged_by, ${by}),
              acknowledged_at = coalesce(acknowledged_at, ${DateTime.toDateUtc(at)}), updated_at = ${DateTime.toDateUtc(at)}
          WHERE id = ${id} AND status <> 'RESOLVED'
          RETURNING *`
      ).pipe(orDieSql) as Effect.Effect<ServiceAlert, AlertNotFound | AlertAlreadyResolved>,
    resolve: (id, by, notes, at) =>
      transitionAlert(
        id,
        sql`
          UPDATE service_alerts
          SET status = 'RESOLVED', resolved_by = ${by}, resolved_at = ${DateTime.toDateUtc(at)},
              resolution_notes = ${notes}, updated_at = ${DateTime.toDateUtc(at)}
          WHERE id = ${id} AND status <> 'RESOLVED'
          RETURNING *`
      ).pipe(orDieSql) as Effect.Effect<ServiceAlert, AlertNotFound | AlertAlreadyResolved>,
    search: (query) => orDieSql(searchPage(sql, FilterDict.AlertFilterSpec, query, { decode }))
  })
})

export const layer = Layer.effect(AlertRepository, make)
