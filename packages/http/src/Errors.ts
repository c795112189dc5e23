/**
 * How errors look on the wire: `{ _tag, message, ...fields }` with the status the error class
 * declares. Domain errors keep `message` as a getter (not a schema field), so {@link withMessage}
 * wraps a class in an encode-side transformation that adds it.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { Option, Schema, SchemaAST } from "effect"

const cache = new Map<unknown, Schema.Schema.Any>()

/**
 * The error class `error` as a response schema whose JSON carries `message` too; the HTTP status
 * is the class's own `HttpApiSchema` status annotation.
 *
 * @since 0.1.0
 */
export const withMessage = <A extends { readonly message: string }, I, F extends Schema.Struct.Fields>(
  error: Schema.Schema<A, I> & { readonly fields: F }
): Schema.Schema<A, I & { readonly message: string }> => {
  type Out = Schema.Schema<A, I & { readonly message: string }>
  const cached = cache.get(error)
  if (cached !== undefined) return cached as unknown as Out
  const status = HttpApiSchema.getStatusErrorAST(error.ast)
  const from = Schema.extend(
    Schema.encodedSchema(Schema.Struct(error.fields)),
    Schema.Struct({ message: Schema.String })
  )
  const schema = Schema.transform(from, error as Schema.Schema<A, any>, {
    strict: false,
    decode: ({ message: _message, ...rest }) => rest,
    encode: (encoded, value) => ({ ...encoded, message: value.message })
  }).annotations({
    ...HttpApiSchema.annotations({ status }),
    identifier: ((error as { readonly identifier?: unknown }).identifier as string | undefined) ??
      Option.getOrElse(SchemaAST.getIdentifierAnnotation(error.ast), () => "Error")
  })
  cache.set(error, schema)
  return schema as unknown as Out
}

/** A request body that is not valid JSON (or not readable). */
export class MalformedBody extends Schema.TaggedError<MalformedBody>()(
  "MalformedBody",
  { field: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {
  override get message() {
    return `Malformed ${this.field}: ${this.reason}`
  }
}
