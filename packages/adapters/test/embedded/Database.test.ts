import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Database from "../../src/postgres/Database.js"
import * as Migrations from "../../src/postgres/Migrations.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

// PGlite has no TCP listener: inet_server_port() is NULL there, the port number on a server.
const whereAmI = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ port: number | null; database: string }>`SELECT inet_server_port() AS port, current_database() AS database`)

describe("Database.layerFromEnv", () => {
  it.live("without DATABASE_URL uses PGlite, persisted in PGLITE_DATA_DIR across restarts", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "isp-pglite-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const env = withEnv({ PGLITE_DATA_DIR: dir })
      const first = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect((yield* whereAmI)[0]!.port).toBeNull()
        expect(yield* Migrations.migrate()).not.toEqual([])
        yield* sql`CREATE TABLE kept (note text)`
        yield* sql`INSERT INTO kept VALUES (${"survives a restart"})`
      })
      yield* first.pipe(Effect.provide(Database.layerFromEnv), env)
      const second = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        expect(yield* Migrations.migrate()).toEqual([])
        return yield* sql<{ note: string }>`SELECT note FROM kept`
      })
      expect(yield* second.pipe(Effect.provide(Database.layerFromEnv), env)).toEqual([{ note: "survives a restart" }])
    }).pipe(Effect.scoped), 60_000)

  it.live.skipIf(process.env["DATABASE_URL"] === undefined)("with DATABASE_URL uses that PostgreSQL server", () =>
    Effect.gen(function*() {
      const url = new URL(process.env["DATABASE_URL"]!)
      const [row] = yield* whereAmI.pipe(Effect.provide(Database.layerFromEnv), withEnv({ DATABASE_URL: url.toString() }))
      expect(row).toEqual({ port: Number(url.port || 5432), database: url.pathname.slice(1) })
    }))

  it.live("an empty DATABASE_URL counts as unset", () =>
    Effect.gen(function*() {
      const [row] = yield* whereAmI.pipe(Effect.provide(Database.layerFromEnv), withEnv({ DATABASE_URL: "" }))
      expect(row!.port).toBeNull()
    }), 60_000)
})
