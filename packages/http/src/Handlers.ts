/**
 * Handler layers, one per group of {@link IspApi}: each endpoint calls a core use-case with the
 * caller's principal applied — customer tokens see only their own services, workflows and alerts
 * (anything else is "not found", so ids do not leak) and may not change anything (403).
 *
 * @since 0.1.0
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Actor, type CustomerService, ServiceNotFound, type ServiceAlert, WorkflowNotFound } from "@isp-framework/core"
import { Context, DateTime, Deferred, Duration, Effect, Metric, Option, Redacted, Schema, Stream } from "effect"
import { IspApi } from "./Api.js"
import {
  InvalidFilter,
  ServiceAlerts,
  ServiceCatalog,
  ServiceProvisioning,
  ServiceQuery,
  type ServiceWithRelations,
  ServiceUsage,
  TokenRepository
} from "./internal/core.js"
import { Authenticator, CurrentPrincipal, issueToken, type Principal, requireAdmin, scopeOf } from "./Security.js"

const actorOf = (p: Principal): Actor =>
  new Actor({ changedBy: p.subject, changeMethod: p._tag === "Customer" ? "CUSTOMER_PORTAL" : "API" })

/** The flat JSON shape of a service with relations (the password is dropped by the schema). */
const toItem = (s: ServiceWithRelations) => ({
  ...(s.service as CustomerService),
  ...(s.template !== undefined ? { template: s.template } : {}),
  ...(s.workflow !== undefined ? { workflow: s.workflow } : {}),
  ...(s.ipAssignments !== undefined ? { ipAssignments: s.ipAssignments } : {}),
  ...(s.history !== undefined ? { history: s.history } : {})
})

/** `include=template,workflow` → its names; ServiceQuery.get rejects unknown ones. */
const includeList = (raw: string | undefined): ReadonlyArray<string> => raw === undefined || raw === "" ? [] : raw.split(",")

/** The request options every provisioning call takes. */
const requestOptions = (principal: Principal, headers: { readonly "idempotency-key"?: string | undefined }, note?: string) => ({
  idempotencyKey: headers["idempotency-key"],
  actor: actorOf(principal),
  note
})

const DEFAULT_USAGE_DAYS = 30

/** `/v1/services…` */
export const ServicesLive = HttpApiBuilder.group(IspApi, "services", (handlers) =>
  Effect.gen(function*() {
    const query = yield* ServiceQuery
    const provisioning = yield* ServiceProvisioning
    const usage = yield* ServiceUsage
    return handlers
      .handle("usage", ({ path, urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const to = urlParams.to ?? (yield* DateTime.now)
          const from = urlParams.from ?? DateTime.subtract(to, { days: DEFAULT_USAGE_DAYS })
          if (!DateTime.lessThan(from, to)) {
            return yield* new InvalidFilter({ key: "from", reason: "from must be before to" })
          }
          // Another customer's service is "not found", exactly like an id that does not exist.
          const service = yield* usage.loadService(path.id)
          if (principal._tag === "Customer" && service.customerId !== principal.customerId) {
            return yield* new ServiceNotFound({ serviceId: path.id })
          }
          return yield* usage.usage(path.id, { from, to, granularity: urlParams.granularity })
        }))
      .handle("list", ({ urlParams }) =>
        // Already the JSON of `ServicePage`'s items (the use-case's read model): sent as is, and as
        // a string (`unsafeJson` would encode it into bytes first; Node writes the string itself).
        // Combinators rather than a generator: every list request runs this.
        Effect.flatMap(CurrentPrincipal, (principal) =>
          Effect.map(query.searchJson(urlParams, scopeOf(principal)), (page) => {
            // No Content-Length: measuring the UTF-8 length flattens the ~35 KB string JSON.stringify
            // builds in parts, and Node flattens it again to write it after the headers; chunked,
            // it is flattened once (about a tenth of the request's allocation, ~2–3 % of its CPU).
            const body = JSON.stringify({ items: page.items, next_cursor: page.nextCursor })
            return HttpServerResponse.raw(body, { contentType: "application/json" })
          })))
      .handle("get", ({ path, urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          return toItem(yield* query.get(path.id, { include: includeList(urlParams.include), scope: scopeOf(principal) }))
        }))
      .handle("provisionInternet", ({ headers, payload }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* provisioning.provisionInternet(payload, requestOptions(admin, headers))
        }))
      .handle("suspend", ({ headers, path, payload }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* provisioning.suspend(
            path.id,
            { reason: payload.reason, suspensionType: payload.type, note: payload.note },
            requestOptions(admin, headers, payload.note)
          )
        }))
      .handle("resume", ({ headers, path }) =>
        Effect.flatMap(requireAdmin, (admin) => provisioning.resume(path.id, requestOptions(admin, headers))))
      .handle("terminate", ({ headers, path }) =>
        Effect.flatMap(requireAdmin, (admin) => provisioning.terminate(path.id, requestOptions(admin, headers))))
  }))

/** `/v1/templates` */
export const TemplatesLive = HttpApiBuilder.group(IspApi, "templates", (handlers) =>
  Effect.gen(function*() {
    const catalog = yield* ServiceCatalog
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.map(catalog.list(urlParams), (page) => ({ items: page.items, next_cursor: page.nextCursor })))
      .handle("create", ({ payload }) => Effect.zipRight(requireAdmin, catalog.create(payload)))
  }))

/** `/v1/workflows/{id}` */
export const WorkflowsLive = HttpApiBuilder.group(IspApi, "workflows", (handlers) =>
  Effect.gen(function*() {
    const provisioning = yield* ServiceProvisioning
    return handlers.handle("get", ({ path }) =>
      Effect.gen(function*() {
        const principal = yield* CurrentPrincipal
        const workflow = yield* provisioning.workflow(path.id)
        if (principal._tag === "Customer" && workflow.customerId !== principal.customerId) {
          return yield* new WorkflowNotFound({ workflowId: path.id })
        }
        return workflow
      }))
  }))

/**
 * Settings of `GET /v1/alerts/stream`: how often an idle stream sends a `: heartbeat` comment (so
 * proxies keep it open and dead clients are noticed). Default 15 s.
 */
export class AlertStreamConfig extends Context.Tag("@isp-framework/http/AlertStreamConfig")<
  AlertStreamConfig,
  { readonly heartbeat: Duration.DurationInput }
>() {}

/**
 * Completed when the server starts shutting down: open event streams end then, so the graceful
 * shutdown (which waits for in-flight responses) is not held open by them. `HttpLayer.layer`
 * provides it.
 */
export class StreamsShutdown extends Context.Tag("@isp-framework/http/StreamsShutdown")<StreamsShutdown, Deferred.Deferred<void>>() {}

/** Open `GET /v1/alerts/stream` connections (a gauge: up on connect, down on disconnect). */
export const openAlertStreams = Metric.gauge("isp_http_alert_streams_open")

const encodeAlert = Schema.encodeSync(IspApi.groups.alerts.endpoints.acknowledge.successSchema as Schema.Schema<ServiceAlert, any>)
const utf8 = new TextEncoder()

/** One SSE frame per alert; `id` lets a client tell which alerts it has seen. */
const alertFrame = (alert: ServiceAlert) =>
  utf8.encode(`id: ${alert.id}\nevent: alert\ndata: ${JSON.stringify(encodeAlert(alert))}\n\n`)

/** `/v1/alerts…` (over the `ServiceAlerts` use-case). */
export const AlertsLive = HttpApiBuilder.group(IspApi, "alerts", (handlers) =>
  Effect.gen(function*() {
    const alerts = yield* ServiceAlerts
    const shutdown = yield* Effect.serviceOption(StreamsShutdown)
    const heartbeat = Option.match(yield* Effect.serviceOption(AlertStreamConfig), {
      onNone: () => Duration.seconds(15),
      onSome: (c) => Duration.decode(c.heartbeat)
    })
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          // A customer's own id overrides any customer_id it sent; other customer_id__… filters
          // are ANDed with it, so they can only narrow.
          const dict = principal._tag === "Customer" ? { ...urlParams, customer_id: principal.customerId } : urlParams
          const page = yield* alerts.search(dict)
          return { items: page.items, next_cursor: page.nextCursor }
        }))
      .handle("stream", () =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const own = principal._tag === "Customer"
            ? alerts.stream.pipe(Stream.filter((a) => a.customerId === principal.customerId))
            : alerts.stream
          const beats = Stream.tick(heartbeat).pipe(Stream.drop(1), Stream.as(utf8.encode(": heartbeat\n\n")))
          const live = Stream.make(utf8.encode(": connected\n\n")).pipe(
            Stream.concat(Stream.merge(own.pipe(Stream.map(alertFrame)), beats))
          )
          const frames = Option.isSome(shutdown) ? Stream.interruptWhen(live, Deferred.await(shutdown.value)) : live
          // The stream is interrupted when the client disconnects (the platform interrupts the
          // request fiber), which releases the subscription and lowers the gauge.
          const body = Stream.unwrapScoped(
            Effect.as(
              Effect.acquireRelease(Metric.increment(openAlertStreams), () => Metric.incrementBy(openAlertStreams, -1)),
              frames
            )
          )
          return HttpServerResponse.stream(body, {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no", connection: "keep-alive" }
          })
        }))
      .handle("acknowledge", ({ path }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* alerts.acknowledge(path.id, admin.subject)
        }))
      .handle("resolve", ({ path, payload }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* alerts.resolve(path.id, admin.subject, payload.notes ?? null)
        }))
  }))

/** `/v1/tokens` */
export const TokensLive = HttpApiBuilder.group(IspApi, "tokens", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* TokenRepository
    const authenticator = yield* Effect.serviceOption(Authenticator)
    return handlers
      .handle("issue", ({ payload }) =>
        Effect.gen(function*() {
          yield* requireAdmin
          const { record, token } = yield* issueToken({
            scope: "customer",
            customerId: payload.customerId,
            name: payload.name,
            expiresAt: payload.expiresAt
          }).pipe(Effect.provideService(TokenRepository, repo))
          return {
            id: record.id,
            token: Redacted.value(token),
            scope: record.scope,
            customerId: record.customerId,
            name: record.name,
            createdAt: record.createdAt,
            expiresAt: record.expiresAt
          }
        }))
      .handle("revoke", ({ path }) =>
        Effect.gen(function*() {
          yield* requireAdmin
          const revoked = yield* repo.revoke(path.id, yield* DateTime.now)
          // The authenticator's cache must not keep accepting it.
          const invalidate = Option.flatMapNullable(authenticator, (a) => a.invalidate)
          if (Option.isSome(invalidate)) yield* invalidate.value(path.id)
          return revoked
        }))
  }))

