/**
 * What every benchmark needs first: the server at `DATABASE_URL` (default: the local test
 * PostgreSQL) and a fresh database on it, dropped when the scope closes, so runs never see
 * each other's rows.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { Effect, Redacted, String as Str } from "effect"
import { randomBytes } from "node:crypto"

export const adminUrl = process.env["DATABASE_URL"]?.trim() || "postgres://postgres@127.0.0.1:5432/test"

/** Creates `<prefix>_<random>` on the admin server and returns its URL; dropped on scope close. */
export const freshDatabaseUrl = (prefix: string) =>
  Effect.gen(function*() {
    const admin = yield* PgClient.make({ url: Redacted.make(adminUrl), maxConnections: 1 })
    const name = `${prefix}_${randomBytes(5).toString("hex")}`
    yield* Effect.acquireRelease(
      admin.unsafe(`CREATE DATABASE ${name}`),
      () => Effect.ignore(admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    )
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return url.toString()
  })

/** A `PgClient` layer on `url` with the library's camel/snake transforms. */
export const pgLayer = (url: string, maxConnections: number) =>
  PgClient.layer({
    url: Redacted.make(url),
    maxConnections,
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel
  })
