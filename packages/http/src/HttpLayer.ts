/**
 * Mounting the v1 API in a server: {@link ApiLive} (the contract with its handlers and auth),
 * {@link layer} (ApiLive + OpenAPI at `/v1/openapi.json` + docs UI at `/docs` + request logging,
 * served on whatever `HttpServer` the application provides).
 *
 * ```ts
 * HttpLayer.layer().pipe(
 *   Layer.provide(NodeHttpServer.layer(createServer, { port: 3000 })),
 *   Layer.provide(myUseCasesAndRepositories)
 * )
 * ```
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpApiSwagger, HttpMiddleware, HttpServerError } from "@effect/platform"
import { Cause, Context, Deferred, Effect, Layer, Option, type Tracer } from "effect"
import { IspApi } from "./Api.js"
import { MalformedBody } from "./Errors.js"
import { AlertsLive, ServicesLive, StreamsShutdown, TemplatesLive, TokensLive, WorkflowsLive } from "./Handlers.js"
import { layerAuthentication } from "./Security.js"

/**
 * A body that does not parse as JSON surfaces from HttpApiBuilder as a defect (a `RequestError`);
 * turn it into a 400 `MalformedBody` that says so, instead of an empty response.
 */
export const MalformedBodyLive = HttpApiBuilder.middleware(IspApi, (app) =>
  Effect.catchAllCause(app, (cause) => {
    const defect = Cause.dieOption(cause)
    if (defect._tag === "Some" && HttpServerError.isServerError(defect.value) && defect.value._tag === "RequestError") {
      const e = defect.value
      return Effect.fail(
        new MalformedBody({
          field: "body",
          reason: e.reason === "Decode" ? "the request body is not valid JSON" : "the request body could not be read"
        })
      )
    }
    return Effect.failCause(cause)
  }))

/**
 * The API with every group's handlers and bearer authentication.
 *
 * Needs the use-cases (`ServiceQuery`, `ServiceProvisioning`, `ServiceCatalog`), `AlertRepository`,
 * `TokenRepository` and an `Authenticator`.
 *
 * @since 0.1.0
 */
export const ApiLive = HttpApiBuilder.api(IspApi).pipe(
  Layer.provide([ServicesLive, TemplatesLive, WorkflowsLive, AlertsLive, TokensLive]),
  Layer.provide(layerAuthentication)
)

/** Options of {@link layer}. */
export interface LayerOptions {
  /** Log one line per request (method, url, status; never headers). Default true. */
  readonly logger?: boolean | undefined
  /**
   * Spans: one per request plus the use-cases' own. Default true, which means "when someone can
   * see them": with only Effect's built-in tracer installed (no exporter such as
   * `@effect/opentelemetry`), spans go nowhere, so they are not created at all. false: never.
   */
  readonly tracing?: boolean | undefined
  /** Serve the docs UI (offline Swagger UI bundled with @effect/platform) at `/docs`. Default true. */
  readonly docs?: boolean | undefined
}

/**
 * True for Effect's built-in tracer (in-memory spans nobody exports). It is not exported, so it is
 * recognised by the class of the spans it makes.
 */
export const isBuiltInTracer = (tracer: Tracer.Tracer): boolean =>
  tracer.span("probe", Option.none(), Context.empty(), [], 0n, "internal").constructor.name === "NativeSpan"

/**
 * Serves the API on the `HttpServer` in context, with OpenAPI at `/v1/openapi.json` and the docs UI
 * at `/docs`.
 *
 * @since 0.1.0
 */
export const layer = (options: LayerOptions = {}) =>
  Layer.unwrapEffect(Effect.map(Effect.tracer, (tracer) => make(options, options.tracing !== false && !isBuiltInTracer(tracer))))

const make = (options: LayerOptions, tracing: boolean) => {
  const serve = HttpApiBuilder.serve((app) => {
    let out = app
    if (options.logger !== false) out = HttpMiddleware.logger(out)
    // Without tracing the use-cases' spans become no-ops too (not only the request span).
    return tracing ? out : Effect.withTracerEnabled(out, false)
  })
  const extras = Layer.mergeAll(
    HttpApiBuilder.middlewareOpenApi({ path: "/v1/openapi.json" }),
    options.docs === false ? Layer.empty : HttpApiSwagger.layer({ path: "/docs" }),
    MalformedBodyLive
  )
  // Built after the HttpServer, so released before it: event streams end, then the server drains.
  const streamsShutdown = Layer.scoped(
    StreamsShutdown,
    Effect.tap(Deferred.make<void>(), (d) => Effect.addFinalizer(() => Deferred.succeed(d, undefined)))
  )
  const served = serve.pipe(Layer.provide(extras), Layer.provide(ApiLive), Layer.provide(streamsShutdown))
  return tracing ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)
}
