/**
 * PostgreSQL `ServiceRepository`. A status change and its history row are written in one
 * transaction; updates are compare-and-set on `version`, so two app instances racing on one
 * service cannot both win.
 */
import { SqlClient, type Statement } from "@effect/sql"
import {
  type AccountingTarget,
  ConcurrentModification,
  Conflict,
  type CustomerId,
  CustomerService,
  FilterDict,
  type ServiceId,
  type ServiceJson,
  ServiceRepository,
  StatusChange,
  type TemplateId
} from "@isp-framework/core"
import { DateTime, Effect, Layer, Option, String as Str } from "effect"
import { searchPage } from "./FilterSql.js"
import * as PgReadPool from "./PgReadPool.js"
import { textArray } from "./internal/arrays.js"
import { decodeRow, encodeRow, fastRow, isUniqueViolation, orDieSql } from "./internal/rows.js"

/** The DateTime columns of `customer_services`, for the fast page decoder. */
export const serviceDateFields = [
  "activatedAt",
  "suspendedAt",
  "terminatedAt",
  "contractStart",
  "contractEnd",
  "createdAt",
  "updatedAt"
] as const

/**
 * Decodes a `customer_services` row for search pages (see `fastRow`).
 *
 * @internal
 */
export const decodeServiceFast = fastRow(CustomerService, { dates: serviceDateFields, redacted: ["pppoePassword"] })

/**
 * The same for rows read without the client's name transforms (snake_case keys): search pages skip
 * the per-row key rewrite entirely.
 *
 * @internal
 */
export const decodeServiceRowFast = fastRow(CustomerService, {
  dates: serviceDateFields,
  redacted: ["pppoePassword"],
  columns: "snake_case"
})

/**
 * The select list of the JSON read model (`searchJson`): every field but the password, in the
 * model's field order, each column named as its JSON key, datetimes formatted by PostgreSQL in the
 * JSON encoding (`toISOString`: UTC, milliseconds, `Z`; the columns are `timestamptz(3)`). The
 * driver then hands back rows that already are `ServiceJson`: no per-value conversion in JS.
 * Identifiers come from the model's own field names, never from input.
 *
 * @internal
 */
export const serviceJsonColumns = Object.keys(CustomerService.fields)
  .filter((key) => key !== "pppoePassword")
  .map((key) => {
    const column = `"${Str.camelToSnake(key)}"`
    const value = (serviceDateFields as ReadonlyArray<string>).includes(key)
      ? `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
      : column
    return `${value} AS "${key}"`
  })
  .join(", ")

/** The service filter spec reading `ServiceJson` rows (cursor values: `createdAt` is its ISO string). */
const jsonSpec: FilterDict.EntitySpec<ServiceJson> = {
  ...FilterDict.ServiceFilterSpec,
  get: FilterDict.modelAccessor<ServiceJson>(FilterDict.ServiceFilterSpec.fields)
}

const asServiceJson = (row: Record<string, unknown>) => row as ServiceJson

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const raw = sql.withoutTransforms()
  // Searches run on the pool directly where there is one (PostgreSQL): see PgReadPool.
  const readPool = yield* Effect.serviceOption(PgReadPool.PgReadPool)
  const execute = Option.match(readPool, {
    onNone: () => undefined,
    onSome: (pool) => (statement: Statement.Statement<Record<string, unknown>>) => PgReadPool.execute(pool, statement)
  })
  const decode = decodeRow(CustomerService)
  const encode = encodeRow(CustomerService)
  const decodeChange = decodeRow(StatusChange)
  const encodeChange = encodeRow(StatusChange)

  const conflictOf = (service: CustomerService) => (e: { readonly _tag: string }) =>
    e._tag === "SqlError" && isUniqueViolation(e as never)
      ? Effect.fail(
        isUniqueViolation(e as never, "customer_services_live_username_idx")
          ? new Conflict({ field: "pppoeUsername", value: service.pppoeUsername ?? "" })
          : isUniqueViolation(e as never, "customer_services_pkey")
          ? new Conflict({ field: "id", value: service.id })
          : new Conflict({ field: "serviceNumber", value: service.serviceNumber })
      )
      : Effect.fail(e)

  const insertChange = (change: StatusChange) => sql`INSERT INTO service_status_changes ${sql.insert(encodeChange(change))}`
  const ensureTariff = (tariffId: string) => sql`INSERT INTO tariffs ${sql.insert({ id: tariffId })} ON CONFLICT DO NOTHING`

  const insert = (service: CustomerService, created: StatusChange) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* ensureTariff(service.tariffId)
      yield* sql`INSERT INTO customer_services ${sql.insert(encode(service))}`
      yield* insertChange(created)
    })).pipe(Effect.catchAll(conflictOf(service)), orDieSql) as Effect.Effect<void, Conflict>

  const update = (next: CustomerService, change: StatusChange | null) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* ensureTariff(next.tariffId)
      const { id: _id, createdAt: _c, ...rest } = encode(next)
      const rows = yield* sql`
        UPDATE customer_services SET ${sql.update(rest)}
        WHERE id = ${next.id} AND version = ${next.version - 1}
        RETURNING id`
      if (rows.length === 0) {
        return yield* Effect.fail(new ConcurrentModification({ entity: "CustomerService", id: next.id }))
      }
      if (change !== null) yield* insertChange(change)
    })).pipe(Effect.catchAll(conflictOf(next)), orDieSql) as Effect.Effect<void, ConcurrentModification | Conflict>

  const one = (rows: ReadonlyArray<Record<string, unknown>>) => Option.fromNullable(rows[0]).pipe(Option.map(decode))

  return ServiceRepository.of({
    insert,
    update,
    findById: (id) => orDieSql(sql`SELECT * FROM customer_services WHERE id = ${id}`).pipe(Effect.map(one)),
    findByUsername: (username) =>
      orDieSql(sql`
        SELECT * FROM customer_services
        WHERE pppoe_username = ${username} AND status <> 'TERMINATED'`).pipe(Effect.map(one)),
    findAccountingTargets: (usernames) =>
      usernames.length === 0
        ? Effect.succeed([])
        : orDieSql(raw`
          SELECT id, customer_id, template_id, pppoe_username,
                 (extract(epoch FROM coalesce(activated_at, contract_start, created_at)) * 1000)::float8 AS anchor_ms
          FROM customer_services
          WHERE pppoe_username = ANY(${textArray(usernames)}::text[]) AND status <> 'TERMINATED'`).pipe(
          Effect.map((rows) =>
            rows.map((r): AccountingTarget => ({
              serviceId: r["id"] as ServiceId,
              customerId: r["customer_id"] as CustomerId,
              templateId: r["template_id"] as TemplateId,
              pppoeUsername: r["pppoe_username"] as string,
              anchorAt: DateTime.unsafeMake(r["anchor_ms"] as number) as DateTime.Utc
            }))
          )
        ),
    getMany: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : orDieSql(sql`SELECT * FROM customer_services WHERE ${sql.in("id", ids)}`).pipe(Effect.map((r) => r.map(decode))),
    // Columns in the spec are snake_case already, so the SQL is the same without transforms.
    search: (query) => orDieSql(searchPage(raw, FilterDict.ServiceFilterSpec, query, { decode: decodeServiceRowFast, execute })),
    searchJson: (query) =>
      orDieSql(searchPage(raw, jsonSpec, query, { select: raw.literal(serviceJsonColumns), decode: asServiceJson, execute })),
    nextServiceNumber: orDieSql(sql<{ n: unknown }>`SELECT nextval('service_number_seq') AS n`).pipe(
      Effect.map((rows) => `SVC-${String(rows[0]!.n).padStart(6, "0")}`)
    ),
    history: (id) =>
      orDieSql(sql`SELECT * FROM service_status_changes WHERE service_id = ${id} ORDER BY at, id`).pipe(
        Effect.map((rows) => rows.map(decodeChange))
      ),
    historyOf: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : orDieSql(sql`
          SELECT * FROM service_status_changes WHERE ${sql.in("service_id", ids)} ORDER BY at, id`).pipe(
          Effect.map((rows) => rows.map(decodeChange))
        ),
    searchHistory: (query) => orDieSql(searchPage(sql, FilterDict.StatusChangeFilterSpec, query, { decode: decodeChange })),
    countByCustomer: (customerId) =>
      orDieSql(sql<{ n: unknown }>`SELECT count(*) AS n FROM customer_services WHERE customer_id = ${customerId}`).pipe(
        Effect.map((rows) => Number(rows[0]!.n))
      )
  })
})

export const layer = Layer.effect(ServiceRepository, make)
