/**
 * PostgreSQL `TemplateRepository`. Templates are reference data; their per-type parts live in
 * `jsonb` columns, the filterable fields in plain columns.
 */
import { SqlClient } from "@effect/sql"
import { Conflict, ServiceTemplate, TemplateRepository } from "@isp-framework/core"
import { FilterDict } from "@isp-framework/core"
import { Effect, Layer, Option } from "effect"
import { searchPage } from "./FilterSql.js"
import { decodeRow, encodeRow, isUniqueViolation, orDieSql } from "./internal/rows.js"

const jsonColumns = ["availableLocations", "internet", "voice", "bundle", "recurring"]

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const decode = decodeRow(ServiceTemplate)
  const encode = encodeRow(ServiceTemplate, jsonColumns)

  const ensureTariff = (tariffId: string) => sql`INSERT INTO tariffs ${sql.insert({ id: tariffId })} ON CONFLICT DO NOTHING`

  const write = (t: ServiceTemplate, op: "insert" | "update") =>
    sql.withTransaction(Effect.gen(function*() {
      yield* ensureTariff(t.tariffId)
      const row = encode(t)
      if (op === "insert") {
        yield* sql`INSERT INTO service_templates ${sql.insert(row)}`
      } else {
        const { id: _id, createdAt: _c, ...rest } = row
        yield* sql`UPDATE service_templates SET ${sql.update(rest)} WHERE id = ${t.id}`
      }
    })).pipe(
      Effect.catchIf(
        (e) => e._tag === "SqlError" && isUniqueViolation(e),
        (e) =>
          Effect.fail(
            isUniqueViolation(e, "service_templates_pkey")
              ? new Conflict({ field: "id", value: t.id })
              : new Conflict({ field: "name", value: t.name })
          )
      ),
      orDieSql
    )

  return TemplateRepository.of({
    insert: (t) => write(t, "insert"),
    update: (t) => write(t, "update"),
    findById: (id) =>
      orDieSql(sql`SELECT * FROM service_templates WHERE id = ${id}`).pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]).pipe(Option.map(decode)))
      ),
    getMany: (ids) =>
      ids.length === 0
        ? Effect.succeed([])
        : orDieSql(sql`SELECT * FROM service_templates WHERE ${sql.in("id", ids)}`).pipe(Effect.map((rows) => rows.map(decode))),
    search: (query) => orDieSql(searchPage(sql, FilterDict.TemplateFilterSpec, query, { decode }))
  })
})

export const layer = Layer.effect(TemplateRepository, make)
