/**
 * Filter dicts: `{ "status__in": "ACTIVE,SUSPENDED", "created_at__gte": "2026-01-01T00:00:00Z" }`
 * parsed against an entity's field spec into a typed AST, evaluated in memory (the reference
 * semantics) or compiled to SQL by the Postgres adapter. See docs/filters.md.
 *
 * @since 0.1.0
 */
export * from "./Ast.js"
export * from "./Cursor.js"
export * from "./Errors.js"
export * from "./Evaluate.js"
export * from "./FieldSpec.js"
export * from "./Parse.js"
export * from "./specs/AlertFilterSpec.js"
export * from "./specs/ServiceFilterSpec.js"
export * from "./specs/StatusChangeFilterSpec.js"
export * from "./specs/TemplateFilterSpec.js"
export * from "./specs/WorkflowFilterSpec.js"
export { asciiLower, compareStrings } from "./Values.js"
