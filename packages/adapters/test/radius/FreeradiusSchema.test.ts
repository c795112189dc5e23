/** The FreeRADIUS schema runs (twice) on PGlite and creates FreeRADIUS's columns under their folded names. */
import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { freeradiusSchema, freeradiusTables } from "../../src/radius/FreeradiusSchema.js"
import * as TestDatabase from "../support/TestDatabase.js"

describe("FreeradiusSchema", () => {
  it.layer(TestDatabase.layerPglite(), { timeout: 60_000 })((it) => {
    it.effect("creates every rlm_sql table, idempotently, on PGlite", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* freeradiusSchema
        yield* freeradiusSchema
        const tables = yield* sql<{ tableName: string }>`
          SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
        const names = tables.map((t) => t.tableName)
        for (const table of freeradiusTables) expect(names).toContain(table)

        // The stock queries' column names and defaults.
        yield* sql`INSERT INTO radcheck (username, attribute, value) VALUES ('alice', 'Cleartext-Password', 'pw')`
        const [row] = yield* sql<{ op: string }>`SELECT op FROM radcheck WHERE username = 'alice'`
        expect(row!.op).toBe("==")
        yield* sql`INSERT INTO radacct (acctsessionid, acctuniqueid, nasipaddress, acctinputoctets)
          VALUES ('s1', 'u1', '10.0.0.1', 5)`
        const [acct] = yield* sql<{ nasipaddress: string }>`SELECT nasipaddress FROM radacct WHERE acctuniqueid = 'u1'`
        expect(acct!.nasipaddress).toBe("10.0.0.1")
      }))
  })
})
