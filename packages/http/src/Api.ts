/**
 * The v1 HTTP contract: groups, endpoints, success and error schemas. It is data: the handlers live
 * in `Handlers.ts`, and the OpenAPI document is generated from this value.
 *
 * Wire conventions: JSON bodies use the domain's camelCase field names; list endpoints take the
 * filter-dict standard in the query string and answer `{ items, next_cursor }`; errors are
 * `{ _tag, message, ...fields }` with the status the error class declares.
 *
 * @since 0.1.0
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import {
  AlertAlreadyResolved,
  AlertId,
  AlertNotFound,
  ConcurrentModification,
  Conflict,
  CreateService,
  CustomerId,
  CustomerService,
  InvalidTransition,
  ProvisioningWorkflow,
  ServiceAlert,
  ServiceId,
  ServiceNotFound,
  ServiceTemplate,
  StatusChange,
  SuspensionReason,
  SuspensionType,
  TemplateNotAvailable,
  TemplateNotFound,
  UsageGranularity,
  ValidationError,
  WorkflowId,
  WorkflowNotFound,
  CreateTemplate
} from "@isp-framework/core"
import { ParseResult, Schema, type SchemaAST } from "effect"
import { MalformedBody, withMessage } from "./Errors.js"
import { ApiToken, InvalidCursor, InvalidFilter, IpAssignment, TokenId, TokenNotFound, TokenScope } from "./internal/core.js"
import { Authentication, Forbidden } from "./Security.js"

// --- shared schemas -------------------------------------------------------------------------------

/** A filter dict as it comes from a query string: one value per key, or a list for a repeated key. */
export type FilterDictParams = { readonly [key: string]: string | ReadonlyArray<string> }

const filterValue = (value: unknown): string | ReadonlyArray<string> | undefined => {
  if (typeof value === "string") return value
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) return undefined
  // HttpApiBuilder hands every value of a declared schema over as a list (see FilterParams).
  return value.length === 1 ? value[0] as string : value as ReadonlyArray<string>
}

const decodeFilterParams = (input: unknown, _: SchemaAST.ParseOptions, ast: SchemaAST.Declaration) => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return ParseResult.fail(new ParseResult.Type(ast, input))
  const out: Record<string, string | ReadonlyArray<string>> = {}
  for (const key of Object.keys(input)) {
    const value = filterValue((input as Record<string, unknown>)[key])
    if (value === undefined) return ParseResult.fail(new ParseResult.Type(ast, input, `query parameter ${JSON.stringify(key)} is not a string`))
    out[key] = value
  }
  return ParseResult.succeed(out as FilterDictParams)
}

/**
 * A filter dict from the query string: every key a string, repeated keys a list (the values the
 * filter parser then validates, with typed 400s).
 *
 * Declared rather than a `Schema.Record`: for a record, HttpApiBuilder's `normalizeUrlParams`
 * builds a new schema class for every query key of every request to learn whether the key's values
 * are single strings. For a declaration it just wraps each single value in a list, which the decode
 * here unwraps again — the same dict, a few allocations instead of a class per key.
 */
export const FilterParams: Schema.Schema<FilterDictParams> = Schema.declare<FilterDictParams, FilterDictParams, []>([], {
  decode: () => decodeFilterParams,
  encode: () => decodeFilterParams
}, {
  description: "A filter dict: field, field__operator, order_by, limit, cursor, include",
  jsonSchema: {
    type: "object",
    additionalProperties: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] }
  }
})

const { pppoePassword: _password, ...serviceFields } = CustomerService.fields

/** A service as the API shows it: everything but the PPPoE password. */
export const ServiceView = Schema.Struct(serviceFields).annotations({ identifier: "Service" })

/** A service with the relations asked for with `include=`. */
export const ServiceItem = Schema.Struct({
  ...serviceFields,
  template: Schema.optional(Schema.NullOr(ServiceTemplate)),
  workflow: Schema.optional(Schema.NullOr(ProvisioningWorkflow)),
  ipAssignments: Schema.optional(Schema.Array(IpAssignment)),
  history: Schema.optional(Schema.Array(StatusChange))
}).annotations({ identifier: "ServiceWithRelations" })

const page = <A, I>(item: Schema.Schema<A, I>, identifier: string) =>
  Schema.Struct({ items: Schema.Array(item), next_cursor: Schema.NullOr(Schema.String) }).annotations({ identifier })

export const ServicePage = page(ServiceItem, "ServicePage")
export const TemplatePage = page(ServiceTemplate, "TemplatePage")
export const AlertPage = page(ServiceAlert, "AlertPage")

/** What provisioning and lifecycle requests answer (202): the service now and the workflow carrying it out. */
export const Started = Schema.Struct({
  service: ServiceView,
  workflow: ProvisioningWorkflow,
  /** false when an earlier request with the same Idempotency-Key is returned. */
  created: Schema.Boolean
}).annotations({ identifier: "Started" })

/** `Idempotency-Key`: the same key returns the same service/workflow instead of starting another. */
export const IdempotencyHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)))
})

export const SuspendBody = Schema.Struct({
  reason: SuspensionReason,
  type: Schema.optionalWith(SuspensionType, { default: () => "FULL" as const }),
  note: Schema.optional(Schema.String.pipe(Schema.maxLength(1000)))
}).annotations({ identifier: "SuspendRequest" })

export const NoteBody = Schema.Struct({
  note: Schema.optional(Schema.String.pipe(Schema.maxLength(1000)))
})

export const ResolveBody = Schema.Struct({
  notes: Schema.optional(Schema.String.pipe(Schema.maxLength(4000)))
}).annotations({ identifier: "ResolveAlertRequest" })

export const IssueTokenBody = Schema.Struct({
  customerId: CustomerId,
  name: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  expiresAt: Schema.optional(Schema.DateTimeUtc)
}).annotations({ identifier: "IssueTokenRequest" })

export const IssuedTokenView = Schema.Struct({
  id: TokenId,
  /** The secret: shown in this response only. */
  token: Schema.String,
  scope: TokenScope,
  customerId: Schema.NullOr(CustomerId),
  name: Schema.String,
  createdAt: Schema.DateTimeUtc,
  expiresAt: Schema.NullOr(Schema.DateTimeUtc)
}).annotations({ identifier: "IssuedToken" })

export const TokenView = ApiToken.pipe(Schema.omit("secretHash")).annotations({ identifier: "ApiToken" })

// --- usage ----------------------------------------------------------------------------------------

/** Bytes on the wire: a decimal string (64-bit counters do not fit a JSON number). */
const Bytes = Schema.BigInt.annotations({ description: "bytes, as a decimal string" })

const IntervalView = Schema.Struct({ start: Schema.DateTimeUtc, end: Schema.DateTimeUtc })

/** `GET /v1/services/{id}/usage` query: `[from, to)` (ISO instants) and the bucket size. */
export const UsageParams = Schema.Struct({
  from: Schema.optional(Schema.DateTimeUtc),
  to: Schema.optional(Schema.DateTimeUtc),
  granularity: Schema.optionalWith(UsageGranularity, { default: () => "DAY" as const })
}).annotations({ identifier: "UsageQuery" })

export const UsageBucketView = Schema.Struct({
  periodStart: Schema.DateTimeUtc,
  periodEnd: Schema.DateTimeUtc,
  bytesIn: Bytes,
  bytesOut: Bytes,
  sessionSeconds: Schema.Number
}).annotations({ identifier: "UsageBucket" })

export const QuotaView = Schema.Struct({
  /** null = unlimited */
  limit: Schema.NullOr(Bytes),
  used: Bytes,
  remaining: Schema.NullOr(Bytes),
  /** used / limit × 100 (two decimals); null when unlimited */
  percent: Schema.NullOr(Schema.Number),
  crossedThresholds: Schema.Array(Schema.Number),
  exceeded: Schema.Boolean
}).annotations({ identifier: "QuotaState" })

export const FupView = Schema.Struct({
  /** null = the plan's own speed */
  tierIndex: Schema.NullOr(Schema.Number),
  downloadKbps: Schema.Number,
  uploadKbps: Schema.Number,
  countedBytes: Bytes,
  window: IntervalView
}).annotations({ identifier: "FupState" })

export const PrepaidView = Schema.Struct({
  coveredBytes: Bytes,
  remainingBytes: Bytes,
  allowanceRemaining: Bytes,
  overageBytes: Bytes,
  chargedMinor: Bytes,
  creditRemaining: Bytes,
  exhausted: Schema.Boolean,
  suspendReason: Schema.NullOr(Schema.Literal("QUOTA_EXHAUSTED", "NON_PAYMENT"))
}).annotations({ identifier: "PrepaidState" })

/** A service's usage over `[from, to)` plus its quota / FUP / prepaid position now. in = upload, out = download. */
export const UsageReportView = Schema.Struct({
  serviceId: ServiceId,
  from: Schema.DateTimeUtc,
  to: Schema.DateTimeUtc,
  granularity: UsageGranularity,
  bytesIn: Bytes,
  bytesOut: Bytes,
  totalBytes: Bytes,
  sessionSeconds: Schema.Number,
  series: Schema.Array(UsageBucketView),
  currentPeriod: IntervalView,
  periodBytes: Bytes,
  quota: QuotaView,
  fup: Schema.NullOr(FupView),
  prepaid: Schema.NullOr(PrepaidView),
  openSessions: Schema.Number
}).annotations({ identifier: "UsageReport" })

/** The SSE body of `GET /v1/alerts/stream` (for OpenAPI; the handler streams it). */
export const AlertEventStream = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })
).annotations({
  identifier: "AlertEventStream",
  description: "Server-sent events: `event: alert` with a ServiceAlert as JSON `data` per new alert; `: heartbeat` comments keep the connection open."
})

const ServiceIdPath = Schema.Struct({ id: ServiceId })
const E = withMessage

// --- groups ---------------------------------------------------------------------------------------

export class ServicesGroup extends HttpApiGroup.make("services")
  .add(
    HttpApiEndpoint.post("provisionInternet", "/services/internet")
      .setPayload(CreateService)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Started, { status: 202 })
      .addError(E(TemplateNotFound))
      .addError(E(TemplateNotAvailable))
      .addError(E(ValidationError))
      .addError(E(Conflict))
      .annotate(OpenApi.Summary, "Provision an internet service (returns at once; a workflow activates it)")
  )
  .add(
    HttpApiEndpoint.get("list", "/services")
      .setUrlParams(FilterParams)
      .addSuccess(ServicePage)
      .addError(E(InvalidFilter))
      .addError(E(InvalidCursor))
      .annotate(OpenApi.Summary, "Search services with a filter dict (status=ACTIVE&order_by=-created_at&limit=50)")
  )
  .add(
    HttpApiEndpoint.get("get", "/services/:id")
      .setPath(ServiceIdPath)
      .setUrlParams(Schema.Struct({ include: Schema.optional(Schema.String) }))
      .addSuccess(ServiceItem)
      .addError(E(ServiceNotFound))
      .addError(E(InvalidFilter))
  )
  .add(
    HttpApiEndpoint.get("usage", "/services/:id/usage")
      .setPath(ServiceIdPath)
      .setUrlParams(UsageParams)
      .addSuccess(UsageReportView)
      .addError(E(InvalidFilter))
      .annotate(OpenApi.Summary, "Bandwidth and quota of a service over [from, to) (default: the last 30 days, daily buckets)")
  )
  .add(
    HttpApiEndpoint.patch("suspend", "/services/:id/suspend")
      .setPath(ServiceIdPath)
      .setPayload(SuspendBody)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Started, { status: 202 })
  )
  .add(
    HttpApiEndpoint.patch("resume", "/services/:id/resume")
      .setPath(ServiceIdPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Started, { status: 202 })
  )
  .add(
    HttpApiEndpoint.patch("terminate", "/services/:id/terminate")
      .setPath(ServiceIdPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Started, { status: 202 })
  )
  .addError(E(ServiceNotFound))
  .addError(E(InvalidTransition))
  .addError(E(ConcurrentModification))
  .addError(E(Conflict))
  .addError(E(Forbidden))
  .middleware(Authentication)
{}

export class TemplatesGroup extends HttpApiGroup.make("templates")
  .add(
    HttpApiEndpoint.get("list", "/templates")
      .setUrlParams(FilterParams)
      .addSuccess(TemplatePage)
      .addError(E(InvalidFilter))
      .addError(E(InvalidCursor))
  )
  .add(
    HttpApiEndpoint.post("create", "/templates")
      .setPayload(CreateTemplate)
      .addSuccess(ServiceTemplate, { status: 201 })
      .addError(E(ValidationError))
      .addError(E(Conflict))
      .addError(E(TemplateNotFound))
  )
  .addError(E(Forbidden))
  .middleware(Authentication)
{}

export class WorkflowsGroup extends HttpApiGroup.make("workflows")
  .add(
    HttpApiEndpoint.get("get", "/workflows/:id")
      .setPath(Schema.Struct({ id: WorkflowId }))
      .addSuccess(ProvisioningWorkflow)
      .addError(E(WorkflowNotFound))
  )
  .middleware(Authentication)
{}

const AlertIdPath = Schema.Struct({ id: AlertId })

export class AlertsGroup extends HttpApiGroup.make("alerts")
  .add(
    HttpApiEndpoint.get("list", "/alerts")
      .setUrlParams(FilterParams)
      .addSuccess(AlertPage)
      .addError(E(InvalidFilter))
      .addError(E(InvalidCursor))
  )
  .add(
    HttpApiEndpoint.get("stream", "/alerts/stream")
      .addSuccess(AlertEventStream)
      .annotate(OpenApi.Summary, "New alerts as server-sent events (a customer token sees its own only)")
  )
  .add(
    HttpApiEndpoint.post("acknowledge", "/alerts/:id/acknowledge")
      .setPath(AlertIdPath)
      .addSuccess(ServiceAlert)
  )
  .add(
    HttpApiEndpoint.post("resolve", "/alerts/:id/resolve")
      .setPath(AlertIdPath)
      .setPayload(ResolveBody)
      .addSuccess(ServiceAlert)
  )
  .addError(E(AlertNotFound))
  .addError(E(AlertAlreadyResolved))
  .addError(E(Forbidden))
  .middleware(Authentication)
{}

export class TokensGroup extends HttpApiGroup.make("tokens")
  .add(
    HttpApiEndpoint.post("issue", "/tokens")
      .setPayload(IssueTokenBody)
      .addSuccess(IssuedTokenView, { status: 201 })
      .annotate(OpenApi.Summary, "Issue a customer-portal token (the secret is returned once)")
  )
  .add(
    HttpApiEndpoint.del("revoke", "/tokens/:id")
      .setPath(Schema.Struct({ id: TokenId }))
      .addSuccess(TokenView)
      .addError(E(TokenNotFound))
  )
  .addError(E(Forbidden))
  .middleware(Authentication)
{}

/**
 * The whole v1 API.
 *
 * @since 0.1.0
 */
export class IspApi extends HttpApi.make("isp-framework")
  .add(ServicesGroup)
  .add(TemplatesGroup)
  .add(WorkflowsGroup)
  .add(AlertsGroup)
  .add(TokensGroup)
  .addError(E(MalformedBody))
  .prefix("/v1")
  .annotate(OpenApi.Title, "ISP Framework API")
  .annotate(OpenApi.Version, "1.0.0")
  .annotate(OpenApi.Description, "Service templates, customer services, provisioning workflows and alerts.")
{}

