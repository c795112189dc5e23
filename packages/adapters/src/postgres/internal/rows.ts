/**
 * Row plumbing shared by the repositories: rows are decoded with the domain model's own Schema
 * (its JSON encoding), after turning driver values (Date, jsonb) into that encoding. A row that
 * does not decode is our own bug, so it becomes a defect, never a caller-visible error.
 */
import type { SqlError } from "@effect/sql"
import { Effect, Schema } from "effect"

const normalise = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === "bigint") return value.toString()
  return value
}

/** Decodes one row (camelCase keys) into `schema`'s type; dies on a mismatch. */
export const decodeRow = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownSync(schema)
  return (row: Record<string, unknown>): A => {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(row)) out[key] = normalise(row[key])
    return decode(out)
  }
}

/** Encodes a model to its JSON form, with the given keys serialised for `jsonb` columns. */
export const encodeRow = <A, I>(schema: Schema.Schema<A, I>, jsonColumns: ReadonlyArray<string> = []) => {
  const encode = Schema.encodeSync(schema)
  return (value: A): Record<string, unknown> => {
    const out = { ...(encode(value) as Record<string, unknown>) }
    for (const key of jsonColumns) {
      if (key in out) out[key] = out[key] === null || out[key] === undefined ? null : JSON.stringify(out[key])
    }
    return out
  }
}

/** The PostgreSQL error behind an SqlError (node-postgres and PGlite both expose `code`). */
const pgError = (error: SqlError.SqlError): { code?: string; constraint?: string; message?: string } =>
  (error.cause ?? {}) as { code?: string; constraint?: string; message?: string }

/** True for a unique violation, optionally of one named constraint / index. */
export const isUniqueViolation = (error: SqlError.SqlError, constraint?: string): boolean => {
  const e = pgError(error)
  if (e.code !== "23505") return false
  if (constraint === undefined) return true
  return e.constraint === constraint || (e.message ?? "").includes(constraint)
}

const isSqlError = (u: unknown): u is SqlError.SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

/** Turns infrastructure failures into defects: only domain errors reach callers. */
export const orDieSql = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, SqlError.SqlError>, R> =>
  Effect.catchAll(effect, (e) => isSqlError(e) ? Effect.die(e) : Effect.fail(e as Exclude<E, SqlError.SqlError>))
