/**
 * Value decoding and comparison per field kind — the single definition both the parser and the
 * evaluator use. Internal: not re-exported from the package.
 *
 * @since 0.1.0
 */
import { DateTime, Either } from "effect"
import type { Scalar } from "./Ast.js"
import type { FieldSpec } from "./FieldSpec.js"

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const INT = /^[+-]?\d+$/
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|z|[+-]\d{2}:?\d{2}))?$/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Years PostgreSQL's timestamptz and JS Date both represent without surprises. */
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number => {
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(0)
  date.setUTCFullYear(y, mo, d)
  date.setUTCHours(h, mi, s, ms)
  return date.getTime()
}
const MIN_TIME = utc(1, 0, 1, 0, 0, 0, 0)
const MAX_TIME = utc(9999, 11, 31, 23, 59, 59, 999)

const describe = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u.length > 40 ? u.slice(0, 40) + "…" : u)
  if (u === null) return "null"
  if (Array.isArray(u)) return "an array"
  if (typeof u === "object") return "an object"
  try {
    return String(u)
  } catch {
    return typeof u
  }
}

const checkDate = (d: Date, raw: unknown): Either.Either<Date, string> =>
  Number.isNaN(d.getTime()) || d.getTime() < MIN_TIME || d.getTime() > MAX_TIME
    ? Either.left(`expected a date-time between years 0001 and 9999, got ${describe(raw)}`)
    : Either.right(d)

const parseIso = (s: string): Either.Either<Date, string> => {
  const m = ISO.exec(s)
  const bad = Either.left(`expected an ISO 8601 date-time like 2026-01-01T00:00:00Z, got ${describe(s)}`)
  if (m === null) return bad
  const [, y, mo, d, h, mi, sec, frac, tz] = m
  const ms = frac === undefined ? 0 : Number((frac + "00").slice(0, 3)) // truncate to milliseconds
  const local = utc(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0), ms)
  const check = new Date(local)
  // Reject calendar overflow such as 2026-02-30 or 25:00 instead of letting Date roll it over.
  if (
    check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h ?? 0) ||
    check.getUTCMinutes() !== Number(mi ?? 0) || check.getUTCSeconds() !== Number(sec ?? 0)
  ) return bad
  let offset = 0
  if (tz !== undefined && tz !== "Z" && tz !== "z") {
    const sign = tz[0] === "-" ? -1 : 1
    const digits = tz.slice(1).replace(":", "")
    const oh = Number(digits.slice(0, 2))
    const om = Number(digits.slice(2, 4))
    if (oh > 23 || om > 59) return bad
    offset = sign * (oh * 60 + om) * 60_000
  }
  if (h !== undefined && tz === undefined) return bad
  return checkDate(new Date(local - offset), s)
}

/** Decodes one value (typed, or a string from a URL) for a field. Left is a human-readable reason. */
export const decodeValue = (field: FieldSpec, u: unknown): Either.Either<Scalar, string> => {
  switch (field.kind) {
    case "string": {
      if (typeof u !== "string") return Either.left(`expected a string, got ${describe(u)}`)
      // PostgreSQL text cannot hold NUL or unpaired surrogates: refuse them here rather than fail in SQL.
      if (u.includes("\u0000")) return Either.left("strings may not contain NUL characters")
      if (LONE_SURROGATE.test(u)) return Either.left("strings must be well-formed Unicode")
      return Either.right(u)
    }
    case "enum": {
      if (typeof u === "string" && field.values?.includes(u)) return Either.right(u)
      return Either.left(`expected one of ${(field.values ?? []).join(", ")}, got ${describe(u)}`)
    }
    case "uuid": {
      if (typeof u === "string" && UUID.test(u)) return Either.right(u.toLowerCase())
      return Either.left(`expected a UUID, got ${describe(u)}`)
    }
    case "int": {
      const n = typeof u === "number" ? u : typeof u === "string" && INT.test(u) ? Number(u) : typeof u === "bigint" ? Number(u) : NaN
      if (Number.isSafeInteger(n)) return Either.right(n === 0 ? 0 : n)
      return Either.left(`expected an integer, got ${describe(u)}`)
    }
    case "number": {
      const n = typeof u === "number" ? u : typeof u === "string" && NUMBER.test(u) ? Number(u) : NaN
      if (Number.isFinite(n)) return Either.right(n === 0 ? 0 : n)
      return Either.left(`expected a finite number, got ${describe(u)}`)
    }
    case "boolean": {
      if (typeof u === "boolean") return Either.right(u)
      if (u === "true") return Either.right(true)
      if (u === "false") return Either.right(false)
      return Either.left(`expected true or false, got ${describe(u)}`)
    }
    case "datetime": {
      if (u instanceof Date) return checkDate(new Date(u.getTime()), u)
      if (DateTime.isDateTime(u)) return checkDate(DateTime.toDateUtc(u), u)
      if (typeof u === "string") return parseIso(u)
      return Either.left(`expected an ISO 8601 date-time, got ${describe(u)}`)
    }
  }
}

/** Lower-cases ASCII letters only — exactly what PostgreSQL's `lower()` does under `COLLATE "C"`. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase())

/** Orders UTF-16 strings by code point (UTF-8 byte order, i.e. `COLLATE "C"`), not by code unit. */
export const compareStrings = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF, so they sort after E000–FFFF.
      const fx = x >= 0xe000 ? x - 0x800 : x >= 0xd800 ? x + 0x2000 : x
      const fy = y >= 0xe000 ? y - 0x800 : y >= 0xd800 ? y + 0x2000 : y
      return fx < fy ? -1 : 1
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** Compares two non-null values of the same field. uuids compare case-insensitively (as PostgreSQL's uuid). */
export const compareValues = (kind: FieldSpec["kind"], a: Scalar, b: Scalar): number => {
  switch (kind) {
    case "string":
    case "enum":
      return compareStrings(String(a), String(b))
    case "uuid":
      return compareStrings(String(a).toLowerCase(), String(b).toLowerCase())
    case "int":
    case "number":
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
    case "boolean":
      return a === b ? 0 : a === false ? -1 : 1
    case "datetime": {
      const x = (a as Date).getTime()
      const y = (b as Date).getTime()
      return x < y ? -1 : x > y ? 1 : 0
    }
  }
}
