/**
 * Handler layers, one per group of {@link IspApi}: each endpoint calls a core use-case with the
 * caller's principal applied — customer tokens see only their own services, workflows and alerts
 * (anything else is "not found", so ids do not leak) and may not change anything (403).
 *
 * @since 0.1.0
 */
import { HttpApiBuilder } from "@effect/platform"
import { Actor, AlertRepository, type CustomerService, WorkflowNotFound } from "@isp-framework/core"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { IspApi } from "./Api.js"
import {
  AlertFilterSpec,
  InvalidFilter,
  parseFilters,
  ServiceCatalog,
  ServiceProvisioning,
  ServiceQuery,
  type ServiceWithRelations,
  TokenRepository
} from "./internal/core.js"
import { CurrentPrincipal, issueToken, type Principal, requireAdmin, scopeOf } from "./Security.js"

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

const includes = ["template", "workflow", "ip_assignments", "history"]

const parseInclude = (raw: string | undefined) =>
  Effect.suspend(() => {
    const list = raw === undefined || raw === "" ? [] : raw.split(",")
    const bad = list.find((i) => !includes.includes(i))
    return bad === undefined
      ? Effect.succeed(list)
      : Effect.fail(new InvalidFilter({ key: "include", reason: `unknown relation ${JSON.stringify(bad)}; expected one of ${includes.join(", ")}` }))
  })

/** The request options every provisioning call takes. */
const requestOptions = (principal: Principal, headers: { readonly "idempotency-key"?: string | undefined }, note?: string) => ({
  idempotencyKey: headers["idempotency-key"],
  actor: actorOf(principal),
  note
})

/** `/v1/services…` */
export const ServicesLive = HttpApiBuilder.group(IspApi, "services", (handlers) =>
  Effect.gen(function*() {
    const query = yield* ServiceQuery
    const provisioning = yield* ServiceProvisioning
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const page = yield* query.search(urlParams, scopeOf(principal))
          return { items: page.items.map(toItem), next_cursor: page.nextCursor }
        }))
      .handle("get", ({ path, urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const include = yield* parseInclude(urlParams.include)
          return toItem(yield* query.get(path.id, { include, scope: scopeOf(principal) }))
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

/** `/v1/alerts…` (over the `AlertRepository` port). */
export const AlertsLive = HttpApiBuilder.group(IspApi, "alerts", (handlers) =>
  Effect.gen(function*() {
    const alerts = yield* AlertRepository
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const principal = yield* CurrentPrincipal
          const parsed = yield* parseFilters(AlertFilterSpec, urlParams)
          const scoped = principal._tag === "Customer"
            ? {
              ...parsed,
              where: [...parsed.where, { _tag: "Compare" as const, field: "customer_id", op: "eq" as const, value: principal.customerId }]
            }
            : parsed
          const page = yield* alerts.search(scoped)
          return { items: page.items, next_cursor: page.nextCursor }
        }).pipe(Effect.withSpan("Alerts.list")))
      .handle("acknowledge", ({ path }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* alerts.acknowledge(path.id, admin.subject, yield* DateTime.now)
        }))
      .handle("resolve", ({ path, payload }) =>
        Effect.gen(function*() {
          const admin = yield* requireAdmin
          return yield* alerts.resolve(path.id, admin.subject, payload.notes ?? null, yield* DateTime.now)
        }))
  }))

/** `/v1/tokens` */
export const TokensLive = HttpApiBuilder.group(IspApi, "tokens", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* TokenRepository
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
          return yield* repo.revoke(path.id, yield* DateTime.now)
        }))
  }))

