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
import {
  Etag,
  FileSystem,
  HttpApiBuilder,
  HttpApiSwagger,
  HttpMiddleware,
  HttpPlatform,
  HttpServer,
  HttpServerError,
  Path
} from "@effect/platform"
import { Cause, Context, Deferred, Effect, FiberRef, Layer, Option, Scope, type Tracer } from "effect"
import { IspApi } from "./Api.js"
import { MalformedBody } from "./Errors.js"
import {
  AlertsLive,
  AlertStreamConfig,
  ServicesLive,
  StreamsShutdown,
  TemplatesLive,
  TokensLive,
  WorkflowsLive
} from "./Handlers.js"
import { ServiceAlerts, ServiceCatalog, ServiceProvisioning, ServiceQuery, ServiceUsage, TokenRepository } from "./internal/core.js"
import { Authentication, Authenticator, layerAuthentication } from "./Security.js"

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
 * Builds `layer` with only the services named in `required` (the types check that they cover
 * everything it requires) and in `optional` (those it looks up with `Effect.serviceOption`, which no
 * type shows) in its context.
 *
 * Why: an HttpApi group captures the whole context it was built in and merges it into the context
 * of every request it handles, and every `provideService` or span in that request copies the
 * context again. Built in the application's full context, that is some forty services copied half
 * a dozen times per request; built like this, a handful.
 */
const seeingOnly = <const Tags extends ReadonlyArray<Context.Tag<any, any>>>(
  required: Tags,
  optional: ReadonlyArray<Context.Tag<any, any>> = []
) =>
<A, E, R extends Context.Tag.Identifier<Tags[number]>>(
  layer: Layer.Layer<A, E, R>
): Layer.Layer<A, E, Context.Tag.Identifier<Tags[number]>> =>
  Layer.scopedContext(Effect.gen(function*() {
    const context = yield* Effect.context<Context.Tag.Identifier<Tags[number]>>()
    // The memo map of the build in progress: layers shared by reference (HttpApiBuilder's Router)
    // must stay the same instances inside.
    const memoMap = yield* Layer.CurrentMemoMap
    const scope = yield* Effect.scope
    const only: Context.Context<R> = Context.pick(...required, ...optional)(context)
    return yield* Effect.mapInputContext(Layer.buildWithMemoMap(layer, memoMap, scope), (_: Context.Context<never>) => only)
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
  Layer.provide([
    seeingOnly([ServiceQuery, ServiceProvisioning, ServiceUsage, Authentication])(ServicesLive),
    seeingOnly([ServiceCatalog, Authentication])(TemplatesLive),
    seeingOnly([ServiceProvisioning, Authentication])(WorkflowsLive),
    seeingOnly([ServiceAlerts, Authentication], [StreamsShutdown, AlertStreamConfig])(AlertsLive),
    seeingOnly([TokenRepository, Authentication], [Authenticator])(TokensLive)
  ]),
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
 * Requests run with the platform's default services (`HttpPlatform`, `FileSystem`, `Path`,
 * `Etag.Generator`) and what each handler group was built with, not the application's whole
 * context: a global `HttpApiBuilder.middleware` added to this server that reads other services at
 * request time must capture them (`withContext: true`).
 *
 * @since 0.1.0
 */
export const layer = (options: LayerOptions = {}) =>
  Layer.unwrapEffect(Effect.map(Effect.tracer, (tracer) => make(options, options.tracing !== false && !isBuiltInTracer(tracer))))

/**
 * The app unchanged. Served without a middleware, `HttpApp.toHandled` ends each request's fiber
 * with the response as its value; with one, with void. Finished fibers stay reachable through young
 * collections for a while (not in a heap snapshot, so most likely from dead old-generation objects
 * that only a full GC reclaims), and the response rides along: under load with `logger: false`
 * every ~35 KB list body survived and was promoted (~1 MB per scavenge, against ~90 KB with this;
 * GC time per request halved). Passing this identity middleware takes the void path.
 */
const endsWithVoid: HttpMiddleware.HttpMiddleware = (app) => app

/**
 * `HttpApiBuilder.serve`, except that the server is handed the app in a context of the platform's
 * default services only. The node server captures that context as the runtime of every request
 * fiber; the request's own services (the request, its scope, route, principal) are added per request,
 * and each group brings the few services it was built with (see {@link seeingOnly}).
 */
const serve = (middleware: HttpMiddleware.HttpMiddleware) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const app = yield* HttpApiBuilder.httpApp
    const server = yield* HttpServer.HttpServer
    const context = yield* Effect.context<
      HttpPlatform.HttpPlatform | Etag.Generator | FileSystem.FileSystem | Path.Path | Scope.Scope
    >()
    const runtime = Context.pick(HttpPlatform.HttpPlatform, Etag.Generator, FileSystem.FileSystem, Path.Path, Scope.Scope)(context)
    yield* Effect.mapInputContext(server.serve(app, middleware), (_: Context.Context<never>) => runtime)
  })).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]))

const make = (options: LayerOptions, tracing: boolean) => {
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
  const served = serve(options.logger !== false ? HttpMiddleware.logger : endsWithVoid).pipe(
    Layer.provide(extras),
    Layer.provide(ApiLive),
    Layer.provide(streamsShutdown)
  )
  if (tracing) return served
  // Without tracing: no request span, and the use-cases' spans become no-ops too. Set once for the
  // server's runtime (every request fiber inherits it), not per request.
  return HttpMiddleware.withTracerDisabledWhen(Layer.locally(served, FiberRef.currentTracerEnabled, false), () => true)
}
