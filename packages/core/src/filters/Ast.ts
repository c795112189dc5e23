/**
 * The typed result of parsing a filter dict (`{ "status__in": ["ACTIVE"], "created_at__gte": "…" }`).
 * Everything downstream — the in-memory evaluator and the SQL compiler — consumes only this AST,
 * so both implement one semantics (see docs/filters.md).
 *
 * Semantics shared by every backend:
 * - Conditions are AND-ed.
 * - A NULL field never matches `eq`, `gt`, `gte`, `lt`, `lte`, `in`, `range` or the string operators;
 *   it does match `ne` and `nin` (SQL `IS DISTINCT FROM`), and `isnull: true`.
 * - Strings compare by code point (SQL `COLLATE "C"`); `i…` operators fold case.
 * - `range` is inclusive at both ends.
 * - Results are ordered by `orderBy`, then by `id` ascending as a stable tie-break; only non-null
 *   ("sortable") fields may be ordered on, so keyset cursors are exact.
 *
 * @since 0.1.0
 */

/** A decoded filter value. Datetimes are `Date`, enums and uuids are strings. */
export type Scalar = string | number | boolean | Date

export type ComparisonOp = "eq" | "ne" | "gt" | "gte" | "lt" | "lte"
export type StringOp = "contains" | "icontains" | "startswith" | "istartswith" | "endswith"
export type Op = ComparisonOp | StringOp | "in" | "nin" | "isnull" | "range"

export type Condition =
  | { readonly _tag: "Compare"; readonly field: string; readonly op: ComparisonOp; readonly value: Scalar }
  | { readonly _tag: "Text"; readonly field: string; readonly op: StringOp; readonly value: string }
  | { readonly _tag: "In"; readonly field: string; readonly negated: boolean; readonly values: ReadonlyArray<Scalar> }
  | { readonly _tag: "IsNull"; readonly field: string; readonly value: boolean }
  | { readonly _tag: "Range"; readonly field: string; readonly lo: Scalar; readonly hi: Scalar }

export interface OrderBy {
  readonly field: string
  readonly direction: "asc" | "desc"
}

/** Where the next page starts: the last row's sort values (one per `orderBy` entry) and its id. */
export interface CursorPosition {
  readonly values: ReadonlyArray<Scalar>
  readonly id: string
}

/** A parsed, validated query against one entity. */
export interface FilterQuery {
  readonly entity: string
  readonly where: ReadonlyArray<Condition>
  readonly orderBy: ReadonlyArray<OrderBy>
  readonly limit: number
  readonly cursor: CursorPosition | null
  /** Relations to load eagerly (validated against the entity's `includes`). */
  readonly include: ReadonlyArray<string>
}

/** A page of results plus the opaque cursor of the next page (null on the last page). */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
}
