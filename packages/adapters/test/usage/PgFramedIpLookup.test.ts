/**
 * Framed-IP-Address -> service on Postgres: only a live assignment maps; a released address maps to
 * nothing, and after re-assignment to the new holder.
 */
import { expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Option } from "effect"
import { FramedIpLookup, uuidv7 } from "@isp-framework/core"
import * as PgFramedIpLookup from "../../src/postgres/usage/PgFramedIpLookup.js"
import * as TestDatabase from "../support/TestDatabase.js"

const id = () => uuidv7(Date.now())

const assign = (serviceId: string, address: string, released: boolean) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO ip_assignments (id, service_id, customer_id, pool_id, slot, address, family, assignment_type,
                                  binding_type, dns_servers, released_at)
      VALUES (${id()}, ${serviceId}, 'cust', ${id()}, ${Math.floor(Math.random() * 1e9)}, ${address}, 4, 'DYNAMIC',
              'NONE', '[]'::jsonb, ${released ? new Date().toISOString() : null}::timestamptz)`)

it.layer(PgFramedIpLookup.layer.pipe(Layer.provideMerge(TestDatabase.layer())), { timeout: 60_000 })("PgFramedIpLookup", (it) => {
  it.effect("maps a live assignment's address to its service, never a released one", () =>
    Effect.gen(function*() {
      const lookup = yield* FramedIpLookup
      const a = id()
      const b = id()
      yield* assign(a, "100.64.7.9", true)
      expect(Option.isNone(yield* lookup.byAddress("100.64.7.9"))).toBe(true)
      yield* assign(b, "100.64.7.9", false)
      expect(yield* lookup.byAddress("100.64.7.9")).toEqual(Option.some(b))
      expect(Option.isNone(yield* lookup.byAddress("100.64.7.10"))).toBe(true)
    }))
})
