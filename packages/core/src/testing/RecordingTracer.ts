/**
 * A tracer that keeps what it is asked for — the span names and how many spans ended — standing in
 * for an exporter (e.g. @effect/opentelemetry) in tests and benchmarks: with it installed, every span
 * is recorded with its attributes, so "tracing on" does the work it does when someone is watching.
 *
 * @since 0.1.0
 */
import { type Context, type Exit, type Option, Tracer } from "effect"

class RecordedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    public links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    private readonly onEnd: () => void
  ) {
    this.traceId = parent._tag === "Some" ? parent.value.traceId : this.spanId
    this.status = { _tag: "Started", startTime }
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.onEnd()
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event() {}
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links = [...this.links, ...links]
  }
}

/**
 * A fresh recording tracer: `names` lists the spans started, in order; `ended()` counts those ended;
 * with `keepSpans`, `spans` holds the spans themselves (name, kind, attributes, status).
 */
export const make = (options: { readonly keepNames?: boolean; readonly keepSpans?: boolean } = {}) => {
  const names: Array<string> = []
  const spans: Array<Tracer.Span & { readonly attributes: ReadonlyMap<string, unknown> }> = []
  let ended = 0
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      if (options.keepNames !== false) names.push(name)
      const span = new RecordedSpan(name, parent, context, links, startTime, kind, () => void ended++)
      if (options.keepSpans === true) spans.push(span)
      return span
    },
    context: (f) => f()
  })
  return { tracer, names, spans, ended: () => ended }
}
