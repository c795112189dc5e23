/**
 * PostgreSQL `WorkflowRepository`. Claiming is one statement: the due rows are picked with
 * `FOR UPDATE SKIP LOCKED`, so any number of workers in any number of processes never claim the
 * same workflow twice; the lease (`locked_until`) hands a dead worker's workflow to another.
 * Saves are conditional on still holding the lease.
 */
import { SqlClient } from "@effect/sql"
import { Conflict, FilterDict, LeaseLost, ProvisioningWorkflow, WorkflowRepository } from "@isp-framework/core"
import { Clock, Effect, Layer, Option } from "effect"
import { searchPage } from "./FilterSql.js"
import { decodeRow, encodeRow, isUniqueViolation, orDieSql } from "./internal/rows.js"

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const decode = decodeRow(ProvisioningWorkflow)
  const encode = encodeRow(ProvisioningWorkflow, ["steps", "input"])
  const many = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map(decode)
  const one = (rows: ReadonlyArray<Record<string, unknown>>) => Option.fromNullable(rows[0]).pipe(Option.map(decode))

  return WorkflowRepository.of({
    create: (w) =>
      sql`INSERT INTO provisioning_workflows ${sql.insert(encode(w))}`.pipe(
        Effect.asVoid,
        Effect.catchIf(
          (e) => isUniqueViolation(e),
          (e) =>
            Effect.fail(
              isUniqueViolation(e, "provisioning_workflows_pkey")
                ? new Conflict({ field: "id", value: w.id })
                : new Conflict({ field: "idempotencyKey", value: w.idempotencyKey ?? "" })
            )
        ),
        orDieSql
      ),
    findById: (id) => orDieSql(sql`SELECT * FROM provisioning_workflows WHERE id = ${id}`).pipe(Effect.map(one)),
    findByIdempotencyKey: (key) =>
      orDieSql(sql`SELECT * FROM provisioning_workflows WHERE idempotency_key = ${key}`).pipe(Effect.map(one)),
    listForService: (serviceId) =>
      orDieSql(sql`
        SELECT * FROM provisioning_workflows WHERE service_id = ${serviceId} ORDER BY created_at, id`).pipe(
        Effect.map(many)
      ),
    latestForServices: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : orDieSql(sql`
          SELECT DISTINCT ON (service_id) * FROM provisioning_workflows
          WHERE ${sql.in("service_id", ids)}
          ORDER BY service_id, created_at DESC, id DESC`).pipe(Effect.map(many)),
    claimDue: ({ leaseMillis, limit, workerId }) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const until = new Date(now.getTime() + leaseMillis)
        const rows = yield* sql`
          UPDATE provisioning_workflows
          SET locked_by = ${workerId}, locked_until = ${until}
          WHERE id IN (
            SELECT id FROM provisioning_workflows
            WHERE status IN ('PENDING', 'RUNNING')
              AND next_run_at <= ${now}
              AND (locked_until IS NULL OR locked_until <= ${now})
            ORDER BY next_run_at, id
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          )
          RETURNING *`
        return many(rows).sort((a, b) => (a.nextRunAt.epochMillis - b.nextRunAt.epochMillis) || (a.id < b.id ? -1 : 1))
      }).pipe(orDieSql),
    save: (w, workerId) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const { id: _id, createdAt: _c, ...rest } = encode(w)
        const rows = yield* sql`
          UPDATE provisioning_workflows SET ${sql.update(rest)}
          WHERE id = ${w.id} AND locked_by = ${workerId} AND locked_until > ${now}
          RETURNING id`
        if (rows.length === 0) return yield* Effect.fail(new LeaseLost({ workflowId: w.id, workerId }))
      }).pipe(orDieSql),
    search: (query) => orDieSql(searchPage(sql, FilterDict.WorkflowFilterSpec, query, { decode }))
  })
})

export const layer = Layer.effect(WorkflowRepository, make)
