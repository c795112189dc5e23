/**
 * `include` costs one statement per relation: `ServiceQuery.search` with
 * include=template,workflow,ip_assignments,history runs as many SQL statements for a page of 500
 * services as for a page of 10. Statements are counted with a tracer that sees every `sql.execute`
 * span @effect/sql opens (one per statement sent), on the real repositories and the real
 * PostgreSQL IP allocator.
 */
import { layer } from "@effect/vitest"
import { expect } from "@effect/vitest"
import {
  CustomerService,
  type CustomerId,
  IpAllocator,
  type PoolId,
  ServiceQuery,
  ServiceRepository,
  TemplateRepository,
  WorkflowRepository
} from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { DateTime, Effect, Layer, Option, Tracer } from "effect"
import * as PgIpAllocator from "../../src/postgres/ip/PgIpAllocator.js"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories } from "./support.js"

/** Runs `effect` under a tracer that records the text of every SQL statement executed. */
const statementsOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const base = yield* Effect.tracer
    const statements: Array<string> = []
    const tracer = Tracer.make({
      context: (f, fiber) => base.context(f, fiber),
      span: (name, parent, context, links, startTime, kind, options) => {
        const span = base.span(name, parent, context, links, startTime, kind, options)
        if (name !== "sql.execute") return span
        const index = statements.push("?") - 1
        const attribute = span.attribute.bind(span)
        span.attribute = (key, value) => {
          if (key === "db.query.text") statements[index] = String(value)
          attribute(key, value)
        }
        return span
      }
    })
    const result = yield* Effect.withTracer(effect, tracer)
    return { result, statements }
  })

/** Statements per table read (the first table after FROM), so a failure names the relation. */
const perTable = (statements: ReadonlyArray<string>) => {
  const out: Record<string, number> = {}
  for (const text of statements) {
    const table = /\bFROM\s+"?([a-z_]+)"?/i.exec(text)?.[1] ?? text
    out[table] = (out[table] ?? 0) + 1
  }
  return out
}

const customerId = Fixtures.unique("count-") as CustomerId
const PAGE = 500

const Stack = ServiceQuery.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(repositories, PgIpAllocator.layer)),
  Layer.provideMerge(TestDatabase.layer())
)

/** 520 services of one customer, each with two history rows, a workflow and an address. */
const seed = Effect.gen(function*() {
  const services = yield* ServiceRepository
  const templates = yield* TemplateRepository
  const workflows = yield* WorkflowRepository
  const ips = yield* IpAllocator
  const tpls = [Fixtures.makeTemplate(), Fixtures.makeTemplate()]
  for (const t of tpls) yield* templates.insert(t)
  const pool = yield* ips.createPool({ name: "count", cidr: "10.90.0.0/22" })
  yield* Effect.forEach(Array.from({ length: PAGE + 20 }, (_, i) => i), (i) =>
    Effect.gen(function*() {
      const t = tpls[i % 2]!
      const created = DateTime.unsafeMake(DateTime.toEpochMillis(Fixtures.baseTime) + i * 1000)
      const s = Fixtures.makeService({ customerId, templateId: t.id, tariffId: t.tariffId, createdAt: created, updatedAt: created })
      yield* services.insert(s, Fixtures.makeStatusChange(s))
      const active = new CustomerService({ ...s, status: "ACTIVE", activatedAt: created, version: 2 })
      yield* services.update(active, Fixtures.makeStatusChange(active, { previousStatus: "PENDING", nextStatus: "ACTIVE", event: "ProvisioningSucceeded" }))
      yield* workflows.create(Fixtures.makeWorkflow({ serviceId: s.id, customerId, status: "SUCCEEDED" }))
      yield* ips.allocate({ poolId: pool.id as PoolId, serviceId: s.id, customerId })
    }), { concurrency: 8, discard: true })
})

layer(Stack, { timeout: "180 seconds", excludeTestServices: true })("ServiceQuery.search statement count", (it) => {
  it.effect("a page of 10 and a page of 500 with every include run the same statements", () =>
    Effect.gen(function*() {
      yield* Effect.orDie(seed)
      const query = yield* ServiceQuery
      const search = (limit: number) =>
        statementsOf(query.search({
          customer_id: customerId,
          order_by: "created_at",
          limit,
          include: "template,workflow,ip_assignments,history"
        }))

      const small = yield* search(10)
      const large = yield* search(PAGE)

      // The relations really were loaded, for every service on the page.
      expect(large.result.items).toHaveLength(PAGE)
      for (const item of large.result.items) {
        expect(item.template?.id).toBe(item.service.templateId)
        expect(item.workflow?.serviceId).toBe(item.service.id)
        expect(item.ipAssignments).toHaveLength(1)
        expect(item.history?.map((h) => h.nextStatus)).toEqual(["PENDING", "ACTIVE"])
      }
      expect(small.result.items).toHaveLength(10)

      // One statement for the page, one per relation, whatever the page size.
      expect(perTable(large.statements)).toEqual(perTable(small.statements))
      expect(perTable(small.statements)).toEqual({
        customer_services: 1,
        service_templates: 1,
        provisioning_workflows: 1,
        ip_assignments: 1,
        service_status_changes: 1
      })
    }), 180_000)

  it.effect("each relation is one statement; no include, no extra statement", () =>
    Effect.gen(function*() {
      const query = yield* ServiceQuery
      const count = (include: string | undefined) =>
        Effect.map(
          statementsOf(query.search({ customer_id: customerId, limit: 50, ...(include ? { include } : {}) })),
          (r) => r.statements.length
        )
      expect(yield* count(undefined)).toBe(1)
      for (const relation of ["template", "workflow", "ip_assignments", "history"]) {
        expect([relation, yield* count(relation)]).toEqual([relation, 2])
      }
      // A page without services asks for no relations at all.
      const empty = yield* statementsOf(query.search({ customer_id: Fixtures.unique("nobody-"), include: "template,history" }))
      expect(empty.statements).toHaveLength(1)
      expect(Option.isNone(Option.fromNullable(empty.result.nextCursor))).toBe(true)
    }))
})
