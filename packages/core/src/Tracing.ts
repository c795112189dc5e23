/**
 * Spans on hot paths. `Effect.withSpan` costs a span object and a copy of the fiber's context even
 * when tracing is switched off (`FiberRef.currentTracerEnabled` false: `HttpLayer` without an
 * exporter, or `Effect.withTracerEnabled(false)`), and a request that crosses a handful of them pays
 * that each time. {@link spanWhenTraced} reads the switch first and adds the span only when it is on.
 *
 * @since 0.1.0
 */
import { Effect, FiberRef, type Tracer } from "effect"

/**
 * `Effect.withSpan(name, options)` while tracing is on; the effect itself, untouched, while it is off.
 * Spans taken here capture no stack trace (they wrap calls made on every request).
 */
export const spanWhenTraced = (
  name: string,
  options: { readonly attributes?: Record<string, unknown>; readonly kind?: Tracer.SpanKind } = {}
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
      ? Effect.withSpan(self, name, { ...options, captureStackTrace: false })
      : self
  )
