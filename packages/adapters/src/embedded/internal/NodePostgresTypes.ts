/**
 * node-postgres' own value conversions, borrowed so that PGlite rows and parameters have exactly the
 * JS shapes `PgClient` produces (int8/numeric as strings, `Date` for date/timestamp, `Buffer` for
 * bytea, ...). `pg` ships no typings and is a dependency of `@effect/sql-pg`, so it is loaded with
 * `require` behind a small typed surface.
 *
 * @internal
 */
import { createRequire } from "node:module"

interface PgTypes {
  readonly getTypeParser: (oid: number, format?: "text") => (value: string) => unknown
}

interface Pg {
  readonly types: PgTypes
}

interface PgUtils {
  readonly prepareValue: (value: unknown) => string | Buffer | null
}

const require = createRequire(import.meta.url)

const pg = require("pg") as Pg
const pgUtils = require("pg/lib/utils") as PgUtils

/** The text-format parser node-postgres uses for a type oid (identity for unknown types). */
export const parserFor = (oid: number): (value: string) => unknown => pg.types.getTypeParser(oid, "text")

/** Serialises a parameter the way node-postgres does before sending it (Date, bigint, arrays, objects). */
export const prepareValue = (value: unknown): string | Buffer | null => pgUtils.prepareValue(value)
