/**
 * Opaque keyset cursors: base64url JSON of the last row's sort values and id, plus a fingerprint
 * of the entity and ordering so that a cursor issued for one ordering cannot be replayed against
 * another (`InvalidCursor`). Filters are not part of the fingerprint: a cursor is a position in the
 * ordering, and changing filters between pages simply narrows what follows that position.
 *
 * @since 0.1.0
 */
import { Either, Encoding } from "effect"
import type { CursorPosition, FilterQuery, OrderBy, Scalar } from "./Ast.js"
import { InvalidCursor } from "./Errors.js"
import type { EntitySpec } from "./FieldSpec.js"
import { decodeValue } from "./Values.js"

/** Renders an ordering as in `order_by`: `-created_at,id`. */
export const orderByString = (orderBy: ReadonlyArray<OrderBy>): string =>
  orderBy.map((o) => (o.direction === "desc" ? "-" : "") + o.field).join(",")

/** FNV-1a, 32 bit: a short, stable tag — not a security measure (cursors are not secrets). */
const fingerprint = (entity: string, orderBy: ReadonlyArray<OrderBy>): string => {
  const text = `${entity}|${orderByString(orderBy)}`
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(36)
}

const toJson = (v: Scalar): string | number | boolean => (v instanceof Date ? v.toISOString() : v)

/** The cursor position of a record under a query's ordering. */
export const positionOf = <A>(spec: EntitySpec<A>, query: Pick<FilterQuery, "orderBy">, record: A): CursorPosition => ({
  values: query.orderBy.map((o) => spec.get(record, o.field) as Scalar),
  id: String(spec.get(record, spec.idField))
})

/** Encodes a position for a query's entity and ordering. */
export const encodePosition = (query: Pick<FilterQuery, "entity" | "orderBy">, position: CursorPosition): string =>
  // Node's base64url (unpadded, as `Encoding.encodeBase64Url` writes it) in native code: every page
  // of every list request encodes one. Decoding stays with `Encoding`, which rejects malformed input.
  Buffer.from(JSON.stringify({
    f: fingerprint(query.entity, query.orderBy),
    v: position.values.map(toJson),
    i: position.id
  }), "utf8").toString("base64url")

/** The cursor that continues after `lastRecord` (the last item of a page). */
export const encodeCursor = <A>(spec: EntitySpec<A>, query: Pick<FilterQuery, "entity" | "orderBy">, lastRecord: A): string =>
  encodePosition(query, positionOf(spec, query, lastRecord))

/** Decodes and validates a cursor against the entity and the ordering it will be used with. */
export const decodeCursor = <A>(
  spec: EntitySpec<A>,
  orderBy: ReadonlyArray<OrderBy>,
  cursor: string
): Either.Either<CursorPosition, InvalidCursor> => {
  const fail = (reason: string) => Either.left(new InvalidCursor({ reason }))
  const text = Encoding.decodeBase64UrlString(cursor)
  if (Either.isLeft(text)) return fail("not a cursor issued by this API")
  let payload: unknown
  try {
    payload = JSON.parse(text.right)
  } catch {
    return fail("not a cursor issued by this API")
  }
  if (typeof payload !== "object" || payload === null) return fail("not a cursor issued by this API")
  const { f, i, v } = payload as { f?: unknown; i?: unknown; v?: unknown }
  if (f !== fingerprint(spec.entity, orderBy)) {
    return fail(`issued for another entity or ordering than ${spec.entity} by "${orderByString(orderBy)}"`)
  }
  if (!Array.isArray(v) || v.length !== orderBy.length) return fail("malformed sort values")
  const values: Array<Scalar> = []
  for (let k = 0; k < orderBy.length; k++) {
    const decoded = decodeValue(spec.fields[orderBy[k].field], v[k])
    if (Either.isLeft(decoded)) return fail(`bad value for ${orderBy[k].field}: ${decoded.left}`)
    values.push(decoded.right)
  }
  const id = decodeValue(spec.fields[spec.idField], i)
  if (Either.isLeft(id)) return fail(`bad id: ${id.left}`)
  return Either.right({ values, id: String(id.right) })
}
