/**
 * The core `RadiusProvisioner` port over FreeRADIUS's own `rlm_sql` tables (`radcheck`, `radreply`,
 * `radusergroup`, see `FreeradiusSchema.ts`), so a stock FreeRADIUS with the stock queries answers
 * from what the framework writes.
 *
 * `upsertUser` writes exactly `Desired.radiusRows(spec)`: it deletes the user's framework-owned rows
 * (the attributes and group the framework manages; rows an operator added for other attributes stay)
 * and inserts the canonical ones, in one transaction (a savepoint of the caller's transaction when
 * there is one), under a per-user advisory lock — so re-running or racing never duplicates a row and
 * FreeRADIUS never sees a half-written user. `removeUser` deletes every row of the user.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Desired, RadiusError, RadiusProvisioner, type RadiusUserState } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * `radcheck` attributes the framework owns (replaced on every upsert).
 *
 * @since 0.1.0
 */
export const OWNED_CHECK_ATTRIBUTES: ReadonlyArray<string> = ["Cleartext-Password", "Auth-Type"]

/**
 * `radreply` attributes the framework owns (replaced on every upsert).
 *
 * @since 0.1.0
 */
export const OWNED_REPLY_ATTRIBUTES: ReadonlyArray<string> = [
  "Framed-IP-Address",
  "Framed-IPv6-Prefix",
  "Delegated-IPv6-Prefix",
  "Mikrotik-Rate-Limit",
  "Session-Timeout"
]

/**
 * `radusergroup` groups the framework owns.
 *
 * @since 0.1.0
 */
export const OWNED_GROUPS: ReadonlyArray<string> = [Desired.SUSPENDED_GROUP]

type Row = { readonly attribute: string; readonly op: string; readonly value: string }

const reason = (error: SqlError): string => {
  const cause = error.cause as { readonly message?: unknown } | undefined
  return typeof cause?.message === "string" ? cause.message : error.message
}

/**
 * Builds the provisioner over the ambient `SqlClient` (PostgreSQL or PGlite).
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<RadiusProvisioner, never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const fail = (operation: string) => (error: SqlError) => new RadiusError({ operation, reason: reason(error) })
  // Serialises writers of one user name for the rest of the transaction (two upserts never interleave).
  const lockUser = (username: string) => sql`SELECT pg_advisory_xact_lock(hashtext(${`radius:${username}`}))`

  const values = (username: string, rows: ReadonlyArray<Row>) =>
    rows.map((r) => ({ username, attribute: r.attribute, op: r.op, value: r.value }))

  const upsertUser = Effect.fn("SqlRadiusProvisioner.upsertUser")(function*(spec: Parameters<RadiusProvisioner["upsertUser"]>[0]) {
    const rows = Desired.radiusRows(spec)
    const username = rows.username
    yield* Effect.annotateCurrentSpan({ username })
    // The deletes and inserts are one statement (data-modifying CTEs): four round trips in all, not
    // eight. The lock is its own statement first, so the write's snapshot already sees whatever a
    // writer we waited for committed.
    const writes = [
      sql`DELETE FROM radcheck WHERE username = ${username} AND ${sql.in("attribute", OWNED_CHECK_ATTRIBUTES)}`,
      sql`DELETE FROM radreply WHERE username = ${username} AND ${sql.in("attribute", OWNED_REPLY_ATTRIBUTES)}`,
      sql`DELETE FROM radusergroup WHERE username = ${username} AND ${sql.in("groupname", OWNED_GROUPS)}`,
      ...(rows.check.length > 0 ? [sql`INSERT INTO radcheck ${sql.insert(values(username, rows.check))}`] : []),
      ...(rows.reply.length > 0 ? [sql`INSERT INTO radreply ${sql.insert(values(username, rows.reply))}`] : []),
      ...(rows.groups.length > 0
        ? [sql`INSERT INTO radusergroup ${sql.insert(rows.groups.map((groupname) => ({ username, groupname, priority: 1 })))}`]
        : [])
    ]
    const ctes = writes.map((w, i) => sql`${sql.literal(`w${i}`)} AS (${w})`)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* lockUser(username)
      yield* sql`WITH ${sql.csv(ctes)} SELECT 1`
    })).pipe(Effect.mapError(fail("upsertUser")))
  })

  const removeUser = Effect.fn("SqlRadiusProvisioner.removeUser")(function*(username: string) {
    yield* Effect.annotateCurrentSpan({ username })
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* lockUser(username)
      yield* sql`DELETE FROM radcheck WHERE username = ${username}`
      yield* sql`DELETE FROM radreply WHERE username = ${username}`
      yield* sql`DELETE FROM radusergroup WHERE username = ${username}`
    })).pipe(Effect.mapError(fail("removeUser")))
  })

  const inspectUser = Effect.fn("SqlRadiusProvisioner.inspectUser")(function*(username: string) {
    const [check, reply, groups] = yield* Effect.all([
      sql<Row>`SELECT attribute, op, value FROM radcheck WHERE username = ${username} ORDER BY id`,
      sql<Row>`SELECT attribute, op, value FROM radreply WHERE username = ${username} ORDER BY id`,
      sql<{ groupname: string }>`SELECT groupname FROM radusergroup WHERE username = ${username} ORDER BY priority, id`
    ]).pipe(Effect.mapError(fail("inspectUser")))
    if (check.length === 0 && reply.length === 0 && groups.length === 0) return null
    const state: RadiusUserState = {
      username,
      check: check.map((r) => ({ attribute: r.attribute, op: r.op, value: r.value })),
      reply: reply.map((r) => ({ attribute: r.attribute, op: r.op, value: r.value })),
      groups: groups.map((g) => g.groupname)
    }
    return state
  })

  return RadiusProvisioner.of({ upsertUser, removeUser, inspectUser })
})

/**
 * The provisioner as a layer over `SqlClient`. The FreeRADIUS tables must exist
 * (`Migrations.migrate({ freeradius: true })` or `FreeradiusSchema.freeradiusSchema`).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<RadiusProvisioner, never, SqlClient.SqlClient> = Layer.effect(RadiusProvisioner, make)

/**
 * Makes sure the walled-garden group exists in `radgroupreply` with the given reply attributes
 * (replacing the group's rows). FULL-suspended users are members of {@link Desired.SUSPENDED_GROUP};
 * what they get is up to the ISP, e.g. `Mikrotik-Address-List := suspended` and a low
 * `Mikrotik-Rate-Limit`.
 *
 * @since 0.1.0
 */
export const ensureSuspendedGroup = (
  reply: ReadonlyArray<{ readonly attribute: string; readonly op?: string; readonly value: string }>
): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`DELETE FROM radgroupreply WHERE groupname = ${Desired.SUSPENDED_GROUP}`
      if (reply.length > 0) {
        yield* sql`INSERT INTO radgroupreply ${
          sql.insert(reply.map((r) => ({ groupname: Desired.SUSPENDED_GROUP, attribute: r.attribute, op: r.op ?? ":=", value: r.value })))
        }`
      }
    })))
