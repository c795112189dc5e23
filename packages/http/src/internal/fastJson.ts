/**
 * Compiled JSON encoders for hot list responses: per field, `DateTimeUtc` (or `NullOr` of it) →
 * ISO string, fields whose Schema does not transform → as is, anything else → that field's own
 * Schema encoder. Same JSON as `Schema.encode` of the struct for values of its type (a property
 * test checks this), without the generic ParseResult machinery per value.
 */
import { DateTime, Schema, SchemaAST } from "effect"

type FieldEncoder = (value: unknown) => unknown

const isDateTimeUtc = (ast: SchemaAST.AST) => ast === Schema.DateTimeUtc.ast

const nonNull = (ast: SchemaAST.AST): { readonly ast: SchemaAST.AST; readonly nullable: boolean } => {
  if (SchemaAST.isUnion(ast)) {
    const rest = ast.types.filter((t) => !(SchemaAST.isLiteral(t) && t.literal === null))
    if (rest.length === 1 && rest.length < ast.types.length) return { ast: rest[0]!, nullable: true }
  }
  return { ast, nullable: false }
}

/** True when encoding may change a value (conservative: unknown shapes count as transforming). */
const transforms = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "Transformation":
    case "Suspend":
      return true
    case "Refinement":
      return transforms(ast.from)
    case "Union":
      return ast.types.some(transforms)
    case "TypeLiteral":
      return ast.propertySignatures.some((p) => transforms(p.type)) || ast.indexSignatures.length > 0
    case "TupleType":
      return ast.elements.some((e) => transforms(e.type)) || ast.rest.some((r) => transforms(r.type))
    case "Declaration":
      return ast.typeParameters.length > 0
    default:
      return false
  }
}

const iso = (value: unknown) => new Date((value as DateTime.Utc).epochMillis).toISOString()

const fieldEncoder = (schema: Schema.Schema.Any): FieldEncoder | undefined => {
  const { ast, nullable } = nonNull(schema.ast)
  if (isDateTimeUtc(ast)) return nullable ? (v) => (v === null ? null : iso(v)) : iso
  // No transformation anywhere: the encoded value is the value itself.
  if (!transforms(schema.ast)) return undefined
  const encode = Schema.encodeSync(schema as Schema.Schema<unknown, unknown>)
  return encode
}

/**
 * An encoder for a struct's `fields` (e.g. `Schema.Struct(fields)`): `(value) => plain JSON object`.
 *
 * @internal
 */
export const compileStructEncoder = (fields: Schema.Struct.Fields): ((value: object) => Record<string, unknown>) => {
  const keys: Array<string> = []
  const encoders: Array<FieldEncoder | undefined> = []
  for (const [key, schema] of Object.entries(fields)) {
    if (!Schema.isSchema(schema)) throw new Error(`compileStructEncoder: ${key} is a property signature`)
    keys.push(key)
    encoders.push(fieldEncoder(schema as Schema.Schema.Any))
  }
  // Generated once per struct: one object literal with a fixed key order gives every output the
  // same hidden class (fast to allocate and to JSON.stringify), unlike keyed stores in a loop. A
  // field that is undefined stays undefined, which JSON leaves out exactly like a missing key.
  const body = keys.map((key, i) => {
    const k = JSON.stringify(key)
    return encoders[i] === undefined ? `${k}: v[${k}]` : `${k}: (x = v[${k}]) === undefined ? undefined : e[${i}](x)`
  })
  return new Function("e", `return (v) => { let x; return { ${body.join(", ")} } }`)(encoders) as (
    value: object
  ) => Record<string, unknown>
}
