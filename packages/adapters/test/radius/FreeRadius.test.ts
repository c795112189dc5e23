/**
 * The FreeRADIUS SQL layout the framework writes, proven against a real FreeRADIUS 3.2 reading the
 * test's own PostgreSQL database (radcheck / radreply / radusergroup / radgroupreply / radacct).
 */
import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomBytes } from "node:crypto"
import { freeradiusSchema } from "../../src/radius/FreeradiusSchema.js"
import * as FreeRadius from "../support/FreeRadius.js"
import * as TestDatabase from "../support/TestDatabase.js"

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`

const ServerLayer = Layer.unwrapEffect(Effect.gen(function*() {
  const info = yield* TestDatabase.TestDatabaseInfo
  yield* freeradiusSchema
  return FreeRadius.layer({
    database: info.databaseName!,
    host: info.host,
    port: info.port,
    user: info.username,
    password: info.password
  })
}).pipe(Effect.orDie))

const TestLayer = Layer.provideMerge(ServerLayer, TestDatabase.layerPg())

const addUser = (username: string, password: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO radcheck (username, attribute, op, value)
      VALUES (${username}, 'Cleartext-Password', ':=', ${password})`
  })

const reply = (username: string, attribute: string, value: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO radreply (username, attribute, op, value) VALUES (${username}, ${attribute}, '=', ${value})`
  })

const authenticate = (username: string, password: string) =>
  Effect.flatMap(FreeRadius.FreeRadiusServer, (server) =>
    server.radclient("auth", [["User-Name", username], ["User-Password", password]]))

describe.skipIf(!TestDatabase.realPostgresAvailable())("FreeRADIUS over the framework's SQL tables", () => {
  it.layer(TestLayer, { timeout: 60_000 })((it) => {
    it.effect("accepts a radcheck user and returns its radreply Framed-IP-Address and Mikrotik-Rate-Limit", () =>
      Effect.gen(function*() {
        const user = unique("alice")
        yield* addUser(user, "s3cret")
        yield* reply(user, "Framed-IP-Address", "100.64.0.17")
        yield* reply(user, "Mikrotik-Rate-Limit", "5M/5M")

        const accepted = yield* authenticate(user, "s3cret")
        expect(accepted.code).toBe("Access-Accept")
        expect(accepted.get("Framed-IP-Address")).toBe("100.64.0.17")
        expect(accepted.get("Mikrotik-Rate-Limit")).toBe("5M/5M")

        const wrongPassword = yield* authenticate(user, "guess")
        expect(wrongPassword.code).toBe("Access-Reject")
        expect(wrongPassword.get("Framed-IP-Address")).toBeUndefined()
      }))

    it.effect("rejects a user with Auth-Type := Reject even with the right password", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const user = unique("disabled")
        yield* addUser(user, "s3cret")
        yield* reply(user, "Mikrotik-Rate-Limit", "5M/5M")
        yield* sql`INSERT INTO radcheck (username, attribute, op, value) VALUES (${user}, 'Auth-Type', ':=', 'Reject')`

        const rejected = yield* authenticate(user, "s3cret")
        expect(rejected.code).toBe("Access-Reject")
        expect(rejected.get("Mikrotik-Rate-Limit")).toBeUndefined()
      }))

    it.effect("rejects an unknown user", () =>
      Effect.gen(function*() {
        const rejected = yield* authenticate(unique("nobody"), "x")
        expect(rejected.code).toBe("Access-Reject")
      }))

    it.effect("answers the reply of the user's radusergroup group (the suspended walled garden)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const group = unique("suspended")
        const user = unique("bob")
        yield* sql`INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
          (${group}, 'Mikrotik-Address-List', ':=', 'suspended'),
          (${group}, 'Mikrotik-Rate-Limit', ':=', '64k/64k')`
        yield* addUser(user, "pw")
        yield* reply(user, "Framed-IP-Address", "100.64.0.18")
        yield* reply(user, "Mikrotik-Rate-Limit", "5M/5M")

        const before = yield* authenticate(user, "pw")
        expect(before.code).toBe("Access-Accept")
        expect(before.get("Mikrotik-Address-List")).toBeUndefined()
        expect(before.get("Mikrotik-Rate-Limit")).toBe("5M/5M")

        yield* sql`INSERT INTO radusergroup (username, groupname, priority) VALUES (${user}, ${group}, 0)`
        const suspended = yield* authenticate(user, "pw")
        expect(suspended.code).toBe("Access-Accept")
        expect(suspended.get("Framed-IP-Address")).toBe("100.64.0.18")
        expect(suspended.get("Mikrotik-Address-List")).toBe("suspended")
        // The group's ":=" replaces the user's own rate.
        expect(suspended.attributes.filter((a) => a.name === "Mikrotik-Rate-Limit").map((a) => a.value)).toEqual(["64k/64k"])

        yield* sql`DELETE FROM radusergroup WHERE username = ${user}`
        const resumed = yield* authenticate(user, "pw")
        expect(resumed.get("Mikrotik-Address-List")).toBeUndefined()
        expect(resumed.get("Mikrotik-Rate-Limit")).toBe("5M/5M")
      }))

    it.effect("records accounting Start, Interim-Update and Stop in radacct", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const server = yield* FreeRadius.FreeRadiusServer
        const user = unique("carol")
        const session = unique("sess")
        const base = [
          ["User-Name", user],
          ["Acct-Session-Id", session],
          ["NAS-IP-Address", "127.0.0.1"],
          ["Framed-IP-Address", "100.64.0.19"]
        ] as const
        const start = yield* server.radclient("acct", [...base, ["Acct-Status-Type", "Start"]])
        expect(start.code).toBe("Accounting-Response")
        yield* server.radclient("acct", [
          ...base,
          ["Acct-Status-Type", "Interim-Update"],
          ["Acct-Input-Octets", 1000],
          ["Acct-Output-Octets", 5000],
          ["Acct-Session-Time", 60]
        ])
        const open = yield* sql<{ acctinputoctets: string; acctstoptime: Date | null }>`
          SELECT acctinputoctets, acctstoptime FROM radacct WHERE acctsessionid = ${session}`
        expect(open).toHaveLength(1)
        expect(Number(open[0]!.acctinputoctets)).toBe(1000)
        expect(open[0]!.acctstoptime).toBeNull()

        yield* server.radclient("acct", [
          ...base,
          ["Acct-Status-Type", "Stop"],
          ["Acct-Input-Octets", 2000],
          ["Acct-Output-Octets", 9000],
          ["Acct-Session-Time", 120],
          ["Acct-Terminate-Cause", "User-Request"]
        ])
        const closed = yield* sql<{ acctoutputoctets: string; acctstoptime: Date | null; framedipaddress: string }>`
          SELECT acctoutputoctets, acctstoptime, framedipaddress FROM radacct WHERE acctsessionid = ${session}`
        expect(closed).toHaveLength(1)
        expect(Number(closed[0]!.acctoutputoctets)).toBe(9000)
        expect(closed[0]!.acctstoptime).toBeInstanceOf(Date)
        expect(closed[0]!.framedipaddress).toBe("100.64.0.19")
      }))
  })
})
