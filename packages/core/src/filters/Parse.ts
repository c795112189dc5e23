/**
 * Parses a filter dict (`{ "status__in": "ACTIVE,SUSPENDED", "created_at__gte": "2026-01-01T00:00:00Z",
 * "order_by": "-created_at", "limit": 20 }`) against an entity spec into a {@link FilterQuery}.
 *
 * Values may arrive typed (from code) or as strings (from a URL query); both decode through the
 * field's kind to the same AST. Unknown fields, unknown operators, operators that make no sense for
 * the field's kind and undecodable values are `InvalidFilter` errors naming the key — never dropped.
 * Parsing never throws, whatever the input.
 *
 * @since 0.1.0
 */
import { Effect, Either } from "effect"
import type { ComparisonOp, Condition, CursorPosition, FilterQuery, OrderBy, Scalar, StringOp } from "./Ast.js"
import { decodeCursor } from "./Cursor.js"
import { InvalidCursor, InvalidFilter } from "./Errors.js"
import type { EntitySpec, FieldKind, FieldSpec } from "./FieldSpec.js"
import { decodeValue } from "./Values.js"

/** The keys that are not field filters. */
export const reservedKeys = ["order_by", "limit", "cursor", "include"] as const

/** The operator suffixes (`field__op`) accepted in a filter dict; a bare key means `exact`. */
export const operators = [
  "exact", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains",
  "startswith", "istartswith", "endswith", "isnull", "range"
] as const
export type OperatorName = typeof operators[number]

const COMPARE: ReadonlyArray<OperatorName> = ["exact", "ne", "in", "nin", "isnull"]
const ORDERED: ReadonlyArray<OperatorName> = [...COMPARE, "gt", "gte", "lt", "lte", "range"]
const TEXT: ReadonlyArray<OperatorName> = ["contains", "icontains", "startswith", "istartswith", "endswith"]

/** Which operators each kind accepts. */
export const operatorsFor: Record<FieldKind, ReadonlyArray<OperatorName>> = {
  string: [...ORDERED, ...TEXT],
  int: ORDERED,
  number: ORDERED,
  datetime: ORDERED,
  enum: COMPARE,
  uuid: COMPARE,
  boolean: ["exact", "ne", "isnull"]
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k)

type Result<A> = Either.Either<A, InvalidFilter>
const invalid = (key: string, reason: string): Result<never> => Either.left(new InvalidFilter({ key, reason }))

/** A list value: an array, or a comma-separated string from a URL (empty string = empty list). */
const asList = (u: unknown): ReadonlyArray<unknown> | null =>
  Array.isArray(u) ? u : typeof u === "string" ? (u === "" ? [] : u.split(",")) : null

const decodeOne = (key: string, field: FieldSpec, u: unknown): Result<Scalar> =>
  Either.mapLeft(decodeValue(field, u), (reason) => new InvalidFilter({ key, reason }))

const decodeList = (key: string, field: FieldSpec, u: unknown): Result<ReadonlyArray<Scalar>> => {
  const list = asList(u)
  if (list === null) return invalid(key, "expected a list (an array or a comma-separated string)")
  const out: Array<Scalar> = []
  for (const item of list) {
    const v = decodeOne(key, field, item)
    if (Either.isLeft(v)) return Either.left(v.left)
    out.push(v.right)
  }
  return Either.right(out)
}

const condition = (key: string, name: string, field: FieldSpec, op: OperatorName, raw: unknown): Result<Condition> => {
  switch (op) {
    case "exact":
    case "ne":
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (Array.isArray(raw)) return invalid(key, "expected a single value, not a list")
      const cop: ComparisonOp = op === "exact" ? "eq" : op
      return Either.map(decodeOne(key, field, raw), (value) => ({ _tag: "Compare", field: name, op: cop, value }))
    }
    case "contains":
    case "icontains":
    case "startswith":
    case "istartswith":
    case "endswith": {
      if (typeof raw !== "string") return invalid(key, "expected a string")
      return Either.map(decodeOne(key, field, raw), (value) => ({
        _tag: "Text", field: name, op: op satisfies StringOp, value: value as string
      }))
    }
    case "in":
    case "nin":
      return Either.map(decodeList(key, field, raw), (values) => ({
        _tag: "In", field: name, negated: op === "nin", values
      }))
    case "isnull":
      return Either.map(
        Either.mapLeft(decodeValue({ kind: "boolean", column: "", nullable: false, sortable: false }, raw), (reason) =>
          new InvalidFilter({ key, reason })),
        (value) => ({ _tag: "IsNull", field: name, value: value as boolean })
      )
    case "range": {
      const list = decodeList(key, field, raw)
      if (Either.isLeft(list)) return Either.left(list.left)
      if (list.right.length !== 2) return invalid(key, "expected exactly two values: low,high (inclusive)")
      return Either.right({ _tag: "Range", field: name, lo: list.right[0], hi: list.right[1] })
    }
  }
}

const parseOrderBy = <A>(spec: EntitySpec<A>, raw: unknown): Result<ReadonlyArray<OrderBy>> => {
  const list = asList(raw)
  if (list === null) return invalid("order_by", "expected a field list like \"-created_at,id\"")
  const out: Array<OrderBy> = []
  for (const item of list) {
    if (typeof item !== "string") return invalid("order_by", "expected field names")
    const desc = item.startsWith("-")
    const name = desc ? item.slice(1) : item
    if (!hasOwn(spec.fields, name)) return invalid("order_by", `unknown field "${name}"`)
    if (!spec.fields[name].sortable) return invalid("order_by", `field "${name}" is not sortable (it can be null)`)
    if (out.some((o) => o.field === name)) return invalid("order_by", `field "${name}" appears twice`)
    out.push({ field: name, direction: desc ? "desc" : "asc" })
    // The id is unique: nothing after it can change the order.
    if (name === spec.idField) break
  }
  return Either.right(out)
}

const parseLimit = <A>(spec: EntitySpec<A>, raw: unknown): Result<number> => {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\+?\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(n) || n < 1) return invalid("limit", "expected a positive integer")
  return Either.right(Math.min(n, spec.maxLimit))
}

const parseInclude = <A>(spec: EntitySpec<A>, raw: unknown): Result<ReadonlyArray<string>> => {
  const list = asList(raw)
  if (list === null) return invalid("include", "expected a list of relations")
  const out: Array<string> = []
  for (const item of list) {
    if (typeof item !== "string" || !spec.includes.includes(item)) {
      return invalid("include", `unknown relation ${JSON.stringify(item)}; expected one of ${spec.includes.join(", ") || "(none)"}`)
    }
    if (!out.includes(item)) out.push(item)
  }
  return Either.right(out)
}

const parseUnsafe = <A>(spec: EntitySpec<A>, dict: unknown): Either.Either<FilterQuery, InvalidFilter | InvalidCursor> => {
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
    return invalid("", "expected an object of filters")
  }
  const where: Array<Condition> = []
  let orderBy: ReadonlyArray<OrderBy> = spec.defaultOrder
  let limit = spec.defaultLimit
  let include: ReadonlyArray<string> = []
  let rawCursor: string | null = null
  for (const key of Object.keys(dict)) {
    const raw = (dict as Record<string, unknown>)[key]
    const sep = key.indexOf("__")
    const name = sep === -1 ? key : key.slice(0, sep)
    const opName = sep === -1 ? "exact" : key.slice(sep + 2)
    const reserved = (reservedKeys as ReadonlyArray<string>).includes(key)
    if (!reserved) {
      if (!hasOwn(spec.fields, name)) return invalid(key, `unknown field "${name}" for ${spec.entity}`)
      if (!(operators as ReadonlyArray<string>).includes(opName)) {
        return invalid(key, `unknown operator "${opName}"; expected one of ${operators.join(", ")}`)
      }
      const field = spec.fields[name]
      if (!operatorsFor[field.kind].includes(opName as OperatorName)) {
        return invalid(key, `operator "${opName}" does not apply to ${field.kind} field "${name}"`)
      }
    }
    // `undefined` is an absent optional property in code, not a value.
    if (raw === undefined) continue
    switch (key) {
      case "order_by": {
        const r = parseOrderBy(spec, raw)
        if (Either.isLeft(r)) return Either.left(r.left)
        if (r.right.length > 0) orderBy = r.right
        break
      }
      case "limit": {
        const r = parseLimit(spec, raw)
        if (Either.isLeft(r)) return Either.left(r.left)
        limit = r.right
        break
      }
      case "include": {
        const r = parseInclude(spec, raw)
        if (Either.isLeft(r)) return Either.left(r.left)
        include = r.right
        break
      }
      case "cursor": {
        if (raw === null || raw === "") break
        if (typeof raw !== "string") return Either.left(new InvalidCursor({ reason: "expected a string" }))
        rawCursor = raw
        break
      }
      default: {
        const c = condition(key, name, spec.fields[name], opName as OperatorName, raw)
        if (Either.isLeft(c)) return Either.left(c.left)
        where.push(c.right)
      }
    }
  }
  let cursor: CursorPosition | null = null
  if (rawCursor !== null) {
    const c = decodeCursor(spec, orderBy, rawCursor)
    if (Either.isLeft(c)) return Either.left(c.left)
    cursor = c.right
  }
  return Either.right({ entity: spec.entity, where, orderBy, limit, cursor, include })
}

/** Synchronous {@link parse}. */
export const parseEither = <A>(spec: EntitySpec<A>, dict: unknown): Either.Either<FilterQuery, InvalidFilter | InvalidCursor> => {
  try {
    return parseUnsafe(spec, dict)
  } catch {
    // Only exotic inputs get here (a throwing getter or proxy): still a typed error, never a defect.
    return invalid("", "unreadable filter input")
  }
}

/**
 * Parses a filter dict against an entity spec.
 *
 * @example
 * const query = yield* FilterDict.parse(ServiceFilterSpec, { status__in: "ACTIVE,SUSPENDED", limit: 20 })
 */
export const parse = <A>(spec: EntitySpec<A>, dict: unknown): Effect.Effect<FilterQuery, InvalidFilter | InvalidCursor> =>
  Effect.suspend(() => parseEither(spec, dict))
