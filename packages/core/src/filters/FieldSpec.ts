/**
 * Field specs: what each entity lets callers filter and order on, with each field's kind (which
 * decides how values decode and which operators apply) and its SQL column. One `EntitySpec` drives
 * the parser, the in-memory evaluator and the SQL compiler, so the three cannot drift apart.
 *
 * @since 0.1.0
 */
import { DateTime } from "effect"
import type { OrderBy, Scalar } from "./Ast.js"

/** How a field's values decode and compare. */
export type FieldKind = "string" | "int" | "number" | "boolean" | "datetime" | "enum" | "uuid"

/** One filterable field. */
export interface FieldSpec {
  readonly kind: FieldKind
  /** SQL column, snake_case. Only ever taken from here, never from user input. */
  readonly column: string
  readonly nullable: boolean
  /** Only non-null fields may be sortable, so keyset cursors are exact. */
  readonly sortable: boolean
  /** The allowed values of an `enum` field. */
  readonly values?: ReadonlyArray<string>
}

/** Everything the filter machinery needs to know about one entity. */
export interface EntitySpec<A> {
  readonly entity: string
  readonly table: string
  /** Filter key (snake_case) → field. */
  readonly fields: Record<string, FieldSpec>
  /** Reads a field of a record for in-memory evaluation; datetimes as `Date`, absent as `null`. */
  readonly get: (record: A, key: string) => Scalar | null
  /** The unique, non-null tie-break field (normally "id"). */
  readonly idField: string
  readonly defaultOrder: ReadonlyArray<OrderBy>
  readonly defaultLimit: number
  readonly maxLimit: number
  /** Relations that `include` may name. */
  readonly includes: ReadonlyArray<string>
}

/** Options shared by every field builder. */
export interface FieldOptions {
  readonly nullable?: boolean
  /** Defaults to `!nullable`; a nullable field can never be sortable. */
  readonly sortable?: boolean
  /** Defaults to the filter key. */
  readonly column?: string
}

/** A field declaration before its key (and so its default column) is known. */
export type FieldDecl = Omit<FieldSpec, "column"> & { readonly column: string | undefined }

const decl = (kind: FieldKind, options: FieldOptions = {}, values?: ReadonlyArray<string>): FieldDecl => {
  const nullable = options.nullable ?? false
  return {
    kind,
    column: options.column,
    nullable,
    sortable: !nullable && (options.sortable ?? true),
    ...(values === undefined ? {} : { values })
  }
}

/**
 * Field builders for {@link makeEntitySpec}.
 *
 * @example
 * fields: { status: Field.enum(ServiceStatus.literals), location: Field.string({ nullable: true }) }
 */
export const Field = {
  string: (options?: FieldOptions) => decl("string", options),
  int: (options?: FieldOptions) => decl("int", options),
  number: (options?: FieldOptions) => decl("number", options),
  boolean: (options?: FieldOptions) => decl("boolean", options),
  datetime: (options?: FieldOptions) => decl("datetime", options),
  uuid: (options?: FieldOptions) => decl("uuid", options),
  enum: (values: ReadonlyArray<string | number | boolean | null | bigint>, options?: FieldOptions) =>
    decl("enum", options, values.map(String))
} as const

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** Converts a model property value to a filter scalar: `DateTime` → `Date`, anything else odd → null. */
export const toScalar = (value: unknown): Scalar | null => {
  if (value === null || value === undefined) return null
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value
  if (value instanceof Date) return value
  if (DateTime.isDateTime(value)) return DateTime.toDateUtc(value)
  return null
}

/**
 * The default accessor for `Schema.Class` models: filter key `created_at` reads property `createdAt`.
 */
export const modelAccessor = <A>(fields: Record<string, FieldSpec>): (record: A, key: string) => Scalar | null => {
  const props = new Map(Object.keys(fields).map((k) => [k, camel(k)] as const))
  return (record, key) => {
    const prop = props.get(key)
    return prop === undefined ? null : toScalar((record as Record<string, unknown>)[prop])
  }
}

/**
 * Declares an entity spec concisely: columns default to the keys, `get` to {@link modelAccessor},
 * `defaultOrder` is a string like `"-created_at"`.
 */
export const makeEntitySpec = <A>(def: {
  readonly entity: string
  readonly table: string
  readonly fields: Record<string, FieldDecl>
  readonly get?: (record: A, key: string) => Scalar | null
  readonly idField?: string
  readonly defaultOrder?: string
  readonly defaultLimit?: number
  readonly maxLimit?: number
  readonly includes?: ReadonlyArray<string>
}): EntitySpec<A> => {
  const fields: Record<string, FieldSpec> = {}
  for (const [key, f] of Object.entries(def.fields)) {
    fields[key] = { ...f, column: f.column ?? key }
  }
  const idField = def.idField ?? "id"
  const id = fields[idField]
  if (id === undefined || id.nullable) throw new Error(`${def.entity}: id field "${idField}" must be a non-null field`)
  const defaultOrder = (def.defaultOrder ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map((s): OrderBy => s.startsWith("-") ? { field: s.slice(1), direction: "desc" } : { field: s, direction: "asc" })
  for (const o of defaultOrder) {
    if (!fields[o.field]?.sortable) throw new Error(`${def.entity}: default order field "${o.field}" is not sortable`)
  }
  return {
    entity: def.entity,
    table: def.table,
    fields,
    get: def.get ?? modelAccessor<A>(fields),
    idField,
    defaultOrder,
    defaultLimit: def.defaultLimit ?? 50,
    maxLimit: def.maxLimit ?? 500,
    includes: def.includes ?? []
  }
}
