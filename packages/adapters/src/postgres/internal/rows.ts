/**
 * Row plumbing shared by the repositories: rows are decoded with the domain model's own Schema
 * (its JSON encoding), after turning driver values (Date, jsonb) into that encoding. A row that
 * does not decode is our own bug, so it becomes a defect, never a caller-visible error.
 */
import type { SqlError } from "@effect/sql"
import { DateTime, Effect, Redacted, Schema } from "effect"

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

/**
 * A decoder for hot read paths (search pages): builds the model straight from the driver's values
 * (`Date` -> `DateTime.Utc`, text -> `Redacted`) with the class constructor's validation switched
 * off, skipping the Schema's string round trip (~10x faster per row). Only for rows this adapter
 * wrote itself through `encodeRow`; a property test checks it agrees with {@link decodeRow}.
 */
export const fastRow = <A>(
  model: {
    readonly fields: Record<string, unknown>
    new(props: any, options: { readonly disableValidation: boolean }): A
  },
  options: { readonly dates: ReadonlyArray<string>; readonly redacted?: ReadonlyArray<string> }
) => {
  const keys = Object.keys(model.fields)
  const dates = new Set(options.dates)
  const redacted = new Set(options.redacted ?? [])
  return (row: Record<string, unknown>): A => {
    const props: Record<string, unknown> = {}
    for (const key of keys) {
      const value = row[key] ?? null
      if (value === null) props[key] = null
      else if (dates.has(key)) props[key] = DateTime.unsafeFromDate(value instanceof Date ? value : new Date(value as string))
      else if (redacted.has(key)) props[key] = Redacted.make(value)
      else props[key] = value
    }
    return new model(props, { disableValidation: true })
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
