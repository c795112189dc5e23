/**
 * `GET /v1/services` answers with the use-case's JSON read model (`ServiceQuery.searchJson`; without
 * `include=` built by the repository straight from storage). Its body must be, byte for byte, what
 * the contract's `ServicePage` schema encodes from the domain objects `ServiceQuery.search` returns
 * for the same dict and scope — on the memory adapters and on a database (PostgreSQL when
 * DATABASE_URL is set, else PGlite), with and without relations, across cursor pages.
 */
import { expect, it } from "@effect/vitest"
import { PgUsageStore, PostgresLayer } from "@isp-framework/adapters"
import { type CustomerId, type ServiceWithRelations, ServiceQuery, WorkflowEngine } from "@isp-framework/core"
import { Effect, Layer, Schema } from "effect"
import * as TestDatabase from "../../adapters/test/support/TestDatabase.js"
import { ServicePage } from "../src/Api.js"
import { issue, MemoryPorts, request, seedCatalog, serverOn, SimulatedNetwork } from "./support/Stack.js"

const uniq = () => Math.random().toString(36).slice(2, 10)

const encodePage = Schema.encodeSync(ServicePage)

/** The item shape the schema path encodes: the service's fields plus the loaded relations. */
const item = (s: ServiceWithRelations) => ({
  ...s.service,
  ...(s.template !== undefined ? { template: s.template } : {}),
  ...(s.workflow !== undefined ? { workflow: s.workflow } : {}),
  ...(s.ipAssignments !== undefined ? { ipAssignments: s.ipAssignments } : {}),
  ...(s.history !== undefined ? { history: s.history } : {})
})

/**
 * Fetches `query` as `token` page by page; each body must equal the schema-encoded page of
 * `ServiceQuery.search` for the same dict (the URL's parameters) and scope. Returns the pages' ids.
 */
const samePages = (query: string, token: string, scope?: { readonly customerId: CustomerId }) =>
  Effect.gen(function*() {
    const search = yield* ServiceQuery
    const ids: Array<string> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const params = new URLSearchParams(query)
      if (cursor !== null) params.set("cursor", cursor)
      const reply = yield* request("GET", `/v1/services?${params}`, { token })
      expect(reply.status).toBe(200)
      expect(reply.headers.get("content-type")).toBe("application/json")
      // Chunked, not with a Content-Length: see the list handler (one flatten of the body less).
      expect(reply.headers.get("transfer-encoding")).toBe("chunked")
      expect(reply.headers.get("content-length")).toBeNull()
      const page = yield* search.search(Object.fromEntries(params), scope)
      expect(reply.text).toBe(JSON.stringify(encodePage({ items: page.items.map(item), next_cursor: page.nextCursor })))
      expect(reply.text).not.toContain("pppoePassword")
      ids.push(...page.items.map((s) => s.service.id))
      cursor = reply.body.next_cursor
      pages++
    } while (cursor !== null && pages < 20)
    return { ids, pages }
  })

const scenario = Effect.gen(function*() {
  const admin = yield* issue("api")
  const { template } = yield* seedCatalog()
  const customer = `lj-${uniq()}`
  const engine = yield* WorkflowEngine
  const ids: Array<string> = []
  for (let i = 0; i < 5; i++) {
    const started = yield* request("POST", "/v1/services/internet", {
      token: admin,
      body: {
        customerId: customer,
        templateId: template.id,
        pppoeUsername: `lj-${uniq()}`,
        pppoePassword: "pw-123456",
        location: i % 2 === 0 ? "quote \" backslash \\ é 😀" : undefined,
        circuitId: i === 1 ? "line\nbreak\ttab" : undefined
      }
    })
    expect(started.status).toBe(202)
    yield* engine.drain([started.body.workflow.id])
    ids.push(started.body.service.id)
  }
  // Suspension sets suspendedAt / suspensionReason / suspensionType, and adds history rows.
  const suspended = yield* request("PATCH", `/v1/services/${ids[0]}/suspend`, {
    token: admin,
    body: { reason: "NON_PAYMENT", type: "FULL" }
  })
  expect(suspended.status).toBe(202)
  yield* engine.drain([suspended.body.workflow.id])

  const all = yield* samePages(`customer_id=${customer}&limit=2`, admin)
  expect(all.pages).toBe(3)
  expect([...all.ids].sort()).toEqual([...ids].sort())
  yield* samePages(`customer_id=${customer}&status=ACTIVE&order_by=-created_at&limit=3`, admin)
  yield* samePages(`customer_id__in=${customer},nobody&order_by=status,-updated_at&limit=4`, admin)
  const withRelations = yield* samePages(
    `customer_id=${customer}&include=template,ip_assignments,workflow,history&limit=2`,
    admin
  )
  expect(withRelations.ids).toHaveLength(5)

  // A customer token: its own services only, whatever customer it filters on.
  const own = yield* issue("customer", customer)
  const mine = yield* samePages("limit=2", own, { customerId: customer as CustomerId })
  expect([...mine.ids].sort()).toEqual([...ids].sort())
  const sneaky = yield* samePages("customer_id=somebody-else", own, { customerId: customer as CustomerId })
  expect(sneaky.ids).toEqual([])
})

it.layer(serverOn(MemoryPorts), { timeout: 60_000 })("list JSON on memory adapters", (it) => {
  it.effect("every page equals the schema-encoded search page", () => scenario)
})

const PgPorts = Layer.mergeAll(PostgresLayer.layer, PgUsageStore.layer(), SimulatedNetwork).pipe(
  Layer.provideMerge(TestDatabase.layer())
)

it.layer(serverOn(PgPorts), { timeout: 120_000 })("list JSON on the SQL adapters", (it) => {
  it.effect("every page equals the schema-encoded search page", () => scenario)
})
