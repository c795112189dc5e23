/**
 * ServiceQuery — search services with filter dicts and load relations eagerly. Each included
 * relation costs one batched lookup for the whole page (the brief's "selectinload"), so the number
 * of queries does not grow with the page size.
 *
 * A `scope` restricts everything to one customer (the customer portal): another customer's service
 * is simply not found, so ids do not leak.
 *
 * @since 0.1.0
 */
import { Effect, Option, Schema } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import { ServiceNotFound } from "../domain/Errors.js"
import type { CustomerId, ServiceId } from "../domain/Ids.js"
import { IpAssignment } from "../domain/IpPool.js"
import { ServiceTemplate } from "../domain/ServiceTemplate.js"
import { StatusChange } from "../domain/StatusChange.js"
import { ProvisioningWorkflow } from "../domain/Workflow.js"
import type { FilterQuery, Page } from "../filters/Ast.js"
import { InvalidFilter } from "../filters/Errors.js"
import { parse } from "../filters/Parse.js"
import { ServiceFilterSpec } from "../filters/specs/ServiceFilterSpec.js"
import { IpAllocator } from "../ports/IpAllocator.js"
import { type ServiceJson, ServiceRepository, toServiceJson } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { WorkflowRepository } from "../ports/WorkflowRepository.js"
import { spanWhenTraced } from "../Tracing.js"

/** A service with the relations that were asked for (absent keys were not included). */
export interface ServiceWithRelations {
  readonly service: CustomerService
  readonly template?: ServiceTemplate | null
  readonly workflow?: ProvisioningWorkflow | null
  readonly ipAssignments?: ReadonlyArray<IpAssignment>
  readonly history?: ReadonlyArray<StatusChange>
}

/**
 * A search result as JSON: the service as {@link ServiceJson} followed by the included relations,
 * each as its Schema encodes it (`template` and `workflow` may be null).
 */
export interface ServiceWithRelationsJson extends ServiceJson {
  readonly template?: Schema.Schema.Encoded<typeof ServiceTemplate> | null
  readonly workflow?: Schema.Schema.Encoded<typeof ProvisioningWorkflow> | null
  readonly ipAssignments?: ReadonlyArray<Schema.Schema.Encoded<typeof IpAssignment>>
  readonly history?: ReadonlyArray<Schema.Schema.Encoded<typeof StatusChange>>
}

const encodeTemplate = Schema.encodeSync(ServiceTemplate)
const encodeWorkflow = Schema.encodeSync(ProvisioningWorkflow)
const encodeIpAssignment = Schema.encodeSync(IpAssignment)
const encodeStatusChange = Schema.encodeSync(StatusChange)

/** {@link ServiceWithRelations} as JSON, keys in the order: service fields, then the relations. */
const withRelationsJson = (s: ServiceWithRelations): ServiceWithRelationsJson => ({
  ...toServiceJson(s.service),
  ...(s.template !== undefined ? { template: s.template === null ? null : encodeTemplate(s.template) } : {}),
  ...(s.workflow !== undefined ? { workflow: s.workflow === null ? null : encodeWorkflow(s.workflow) } : {}),
  ...(s.ipAssignments !== undefined ? { ipAssignments: s.ipAssignments.map((a) => encodeIpAssignment(a)) } : {}),
  ...(s.history !== undefined ? { history: s.history.map((h) => encodeStatusChange(h)) } : {})
})

/** Restricts a query to one customer's services. */
export interface Scope {
  readonly customerId: CustomerId
}

const groupBy = <A, K>(items: ReadonlyArray<A>, key: (a: A) => K): Map<K, Array<A>> => {
  const out = new Map<K, Array<A>>()
  for (const item of items) {
    const k = key(item)
    const list = out.get(k)
    if (list) list.push(item)
    else out.set(k, [item])
  }
  return out
}

export class ServiceQuery extends Effect.Service<ServiceQuery>()("@isp-framework/core/ServiceQuery", {
  effect: Effect.gen(function*() {
    const services = yield* ServiceRepository
    const templates = yield* TemplateRepository
    const workflows = yield* WorkflowRepository
    const ips = yield* IpAllocator

    /** Loads `include`d relations for a page of services: one batched lookup per relation. */
    const withRelations = (
      items: ReadonlyArray<CustomerService>,
      include: ReadonlyArray<string>
    ): Effect.Effect<ReadonlyArray<ServiceWithRelations>> =>
      Effect.gen(function*() {
        if (items.length === 0) return []
        const ids = items.map((s) => s.id)
        const want = new Set(include)
        const [tpls, wfs, assignments, history] = yield* Effect.all([
          want.has("template") ? templates.getMany([...new Set(items.map((s) => s.templateId))]) : Effect.succeed(null),
          want.has("workflow") ? workflows.latestForServices(ids) : Effect.succeed(null),
          want.has("ip_assignments") ? ips.findByServices(ids) : Effect.succeed(null),
          want.has("history") ? services.historyOf(ids) : Effect.succeed(null)
        ], { concurrency: "unbounded" })
        const tplById = new Map((tpls ?? []).map((t) => [t.id, t]))
        const wfByService = new Map((wfs ?? []).map((w) => [w.serviceId, w]))
        const ipByService = groupBy(assignments ?? [], (a) => a.serviceId)
        const historyByService = groupBy(history ?? [], (h) => h.serviceId)
        return items.map((service): ServiceWithRelations => ({
          service,
          ...(tpls ? { template: tplById.get(service.templateId) ?? null } : {}),
          ...(wfs ? { workflow: wfByService.get(service.id) ?? null } : {}),
          ...(assignments ? { ipAssignments: ipByService.get(service.id) ?? [] } : {}),
          ...(history ? { history: historyByService.get(service.id) ?? [] } : {})
        }))
      })

    /** Parses a filter dict and restricts it to the scope's customer, if any. */
    const parseScoped = (filters: unknown, scope: Scope | undefined) =>
      Effect.map(parse(ServiceFilterSpec, filters), (query): FilterQuery =>
        scope === undefined ? query : {
          ...query,
          where: [...query.where, { _tag: "Compare", field: "customer_id", op: "eq", value: scope.customerId }]
        })

    /** Runs an already parsed query (scope applied by the caller). */
    const run = Effect.fn("ServiceQuery.run")(function*(query: FilterQuery) {
      const page = yield* services.search(query)
      return { items: yield* withRelations(page.items, query.include), nextCursor: page.nextCursor }
    })

    /**
     * Searches with a filter dict, e.g. `{ status__in: "ACTIVE,SUSPENDED", order_by: "-created_at",
     * include: "template,workflow" }`. With a scope, only that customer's services are visible.
     */
    const search = Effect.fn("ServiceQuery.search")(function*(filters: unknown, scope?: Scope) {
      return yield* run(yield* parseScoped(filters, scope))
    })

    // A page of plain services is a page of services with no relations included (checked, not cast).
    const asRelationsPage = <E, R>(page: Effect.Effect<Page<ServiceWithRelationsJson>, E, R>) => page

    /**
     * `search` answered as JSON (what the list endpoint sends): the same items, order and cursor,
     * each item as `Schema.encode` writes the service (without its password) and its included
     * relations. Without `include` the page comes from the repository's read model
     * (`ServiceRepository.searchJson`), built straight from storage.
     */
    // The list endpoint's hot path: a span only while tracing is on, and without a stack trace
    // (`Effect.fn` takes one on every call, ~90 µs a request under load); the rest is as `search`.
    const searchJson = (filters: unknown, scope?: Scope) =>
      Effect.flatMap(parseScoped(filters, scope), (query) =>
        query.include.length === 0
          ? asRelationsPage(services.searchJson(query))
          : Effect.map(run(query), (page): Page<ServiceWithRelationsJson> => ({
            items: page.items.map(withRelationsJson),
            nextCursor: page.nextCursor
          }))
      ).pipe(spanWhenTraced("ServiceQuery.searchJson"))

    /**
   * One service with the given relations; `ServiceNotFound` also when it is outside the scope,
   * `InvalidFilter` (key "include") for an unknown relation.
   */
    const get = Effect.fn("ServiceQuery.get")(function*(
      id: ServiceId,
      options?: { readonly include?: ReadonlyArray<string>; readonly scope?: Scope | undefined }
    ) {
      const unknown = (options?.include ?? []).find((i) => !ServiceFilterSpec.includes.includes(i))
      if (unknown !== undefined) {
        return yield* new InvalidFilter({
          key: "include",
          reason: `unknown relation ${JSON.stringify(unknown)}; expected one of ${ServiceFilterSpec.includes.join(", ")}`
        })
      }
      const found = yield* services.findById(id)
      if (Option.isNone(found) || (options?.scope && found.value.customerId !== options.scope.customerId)) {
        return yield* new ServiceNotFound({ serviceId: id })
      }
      const [withRels] = yield* withRelations([found.value], options?.include ?? [])
      return withRels!
    })

    return { search, searchJson, run, get } as const
  })
}) {}
