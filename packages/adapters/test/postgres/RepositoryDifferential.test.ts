/**
 * Differential property test through the real repositories: random services (`Fixtures.arbService`)
 * and random service filter dicts give identical ids, in identical order and with identical page
 * boundaries (cursor paging), from the in-memory repository, PGlite and PostgreSQL — and the
 * same JSON read model (`searchJson`), equal on every backend to the `search` page encoded.
 */
import { SqlClient } from "@effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  CustomerService,
  FilterDict,
  MemoryServiceRepository,
  MemoryTemplateRepository,
  ServiceRepository,
  type ServiceTemplate,
  TemplateRepository,
  toServiceJson
} from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import { DateTime, Effect, Layer, ManagedRuntime } from "effect"
import * as fc from "fast-check"
import * as TestDatabase from "../support/TestDatabase.js"
import { repositories } from "./support.js"

type Dict = Record<string, unknown>

// A few shared instants so that orderings meet ties and the (sort key, id) tie-break matters.
const instants = ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.001Z", "2026-03-01T12:00:00.500Z", "2027-06-30T23:59:59.999Z"]
  .map((s) => DateTime.unsafeMake(s))

const templates: ReadonlyArray<ServiceTemplate> = [0, 1, 2].map(() => Fixtures.makeTemplate())

/** Services hung on the stored templates, with created/updated times often shared. */
const servicesArb = fc.array(
  fc.tuple(arbServiceOnTemplates(), fc.option(fc.constantFrom(...instants), { nil: null, freq: 2 })),
  { minLength: 5, maxLength: 30 }
).map((pairs) => pairs.map(([s, t]) => (t === null ? s : new CustomerService({ ...s, createdAt: t, updatedAt: t }))))

function arbServiceOnTemplates() {
  return fc.tuple(Fixtures.arbService, fc.constantFrom(...templates)).map(([s, t]) =>
    new CustomerService({ ...s, templateId: t.id, tariffId: t.tariffId })
  )
}

const iso = (d: DateTime.Utc) => DateTime.formatIso(d)
const pick = <A>(xs: ReadonlyArray<A>, fallback: A) => xs.length === 0 ? fc.constant(fallback) : fc.constantFrom(...xs)

/** One filter (key, value) drawn from values the services actually hold, so filters match something. */
const filterArb = (ss: ReadonlyArray<CustomerService>): fc.Arbitrary<readonly [string, unknown]> => {
  const customers = ss.map((s) => s.customerId as string)
  const times = [...ss.map((s) => iso(s.createdAt)), ...instants.map(iso)]
  const speeds = ss.flatMap((s) => (s.downloadSpeedKbps === null ? [] : [s.downloadSpeedKbps]))
  const statuses = ["PENDING", "ACTIVE", "SUSPENDED", "TERMINATED", "FAILED", "EXPIRED"]
  const numbers = ss.map((s) => s.serviceNumber)
  return fc.oneof(
    pick(customers, "cust-1").map((v) => ["customer_id", v] as const),
    fc.subarray(["cust-1", "cust-2", "cust-3", "cust-4", "cust-5"]).map((v) => ["customer_id__in", v.join(",")] as const),
    pick(customers, "cust-1").map((v) => ["customer_id__gt", v] as const),
    fc.constantFrom("CUST", "cust-", "T-3").map((v) => ["customer_id__icontains", v] as const),
    fc.constantFrom(...statuses).map((v) => ["status", v] as const),
    fc.constantFrom(...statuses).map((v) => ["status__ne", v] as const),
    fc.subarray(statuses).map((v) => ["status__in", v.join(",")] as const),
    fc.subarray(statuses).map((v) => ["status__nin", v.join(",")] as const),
    fc.subarray(["PPPOE", "DHCP", "STATIC"]).map((v) => ["connection_type__in", v.join(",")] as const),
    fc.constantFrom("POSTPAID", "PREPAID", "HYBRID").map((v) => ["billing_model__ne", v] as const),
    fc.constantFrom("north", "south", "east", "west").map((v) => ["location", v] as const),
    fc.subarray(["north", "south", "east", "west"]).map((v) => ["location__nin", v.join(",")] as const),
    fc.constantFrom("NO", "s", "We").map((v) => ["location__istartswith", v] as const),
    fc.boolean().map((v) => ["location__isnull", v] as const),
    fc.boolean().map((v) => ["pppoe_username__isnull", v] as const),
    fc.boolean().map((v) => ["activated_at__isnull", v] as const),
    fc.constantFrom("NON_PAYMENT", "ABUSE").map((v) => ["suspension_reason", v] as const),
    pick(speeds, 1000).map((v) => ["download_speed_kbps__gte", v] as const),
    pick(speeds, 1000).map((v) => ["download_speed_kbps__lt", v] as const),
    fc.tuple(pick(speeds, 1000), pick(speeds, 5000)).map(([a, b]) => ["upload_speed_kbps__range", `${Math.min(a, b)},${Math.max(a, b)}`] as const),
    pick(times, iso(instants[0]!)).map((v) => ["created_at__gte", v] as const),
    pick(times, iso(instants[0]!)).map((v) => ["updated_at__lt", v] as const),
    fc.tuple(pick(times, iso(instants[0]!)), pick(times, iso(instants[3]!))).map(([a, b]) =>
      ["created_at__range", a < b ? `${a},${b}` : `${b},${a}`] as const
    ),
    pick(times, iso(instants[0]!)).map((v) => ["activated_at__lte", v] as const),
    fc.constantFrom(...templates.map((t) => t.id as string)).map((v) => ["template_id", v] as const),
    fc.subarray(templates.map((t) => t.id as string)).map((v) => ["template_id__nin", v.join(",")] as const),
    pick(numbers, "FX-").map((v) => ["service_number__lte", v] as const),
    fc.constantFrom("FX-", "fx-", "a", "0").map((v) => ["service_number__contains", v] as const)
  )
}

const sortable = ["created_at", "updated_at", "status", "customer_id", "service_number", "connection_type", "billing_model", "id"]
const orderArb = fc.shuffledSubarray(sortable, { maxLength: 3 }).chain((fields) =>
  fc.array(fc.boolean(), { minLength: fields.length, maxLength: fields.length }).map((desc) =>
    fields.map((f, i) => (desc[i] ? `-${f}` : f)).join(",")
  )
)

const caseArb = servicesArb.chain((services) =>
  fc.tuple(
    fc.constant(services),
    fc.array(
      fc.record({
        filters: fc.uniqueArray(filterArb(services), { selector: ([k]) => k, maxLength: 2 }),
        orderBy: orderArb,
        limit: fc.integer({ min: 1, max: 5 })
      }),
      { minLength: 1, maxLength: 4 }
    )
  )
)

/**
 * Every page's ids, following `nextCursor` to the end, and every page of the JSON read model
 * (`searchJson`) as text — which must be the `search` page encoded, key for key, cursor included.
 */
const pages = (dict: Dict) =>
  Effect.gen(function*() {
    const repo = yield* ServiceRepository
    const ids: Array<ReadonlyArray<string>> = []
    const json: Array<string> = []
    let cursor: string | null = null
    do {
      const query = yield* Effect.orDie(FilterDict.parse(FilterDict.ServiceFilterSpec, cursor === null ? dict : { ...dict, cursor }))
      const page: FilterDict.Page<CustomerService> = yield* repo.search(query)
      const text = JSON.stringify(yield* repo.searchJson(query))
      expect(text).toBe(JSON.stringify({ items: page.items.map(toServiceJson), nextCursor: page.nextCursor }))
      ids.push(page.items.map((s) => s.id))
      json.push(text)
      cursor = page.nextCursor
      if (ids.length > 100) return yield* Effect.dieMessage("pagination does not terminate")
    } while (cursor !== null)
    return { ids, json }
  })

const load = (services: ReadonlyArray<CustomerService>) =>
  Effect.gen(function*() {
    const repo = yield* ServiceRepository
    for (const s of services) yield* repo.insert(s, Fixtures.makeStatusChange(s))
  })

const storeTemplates = Effect.flatMap(TemplateRepository, (repo) => Effect.forEach(templates, (t) => repo.insert(t)))

const memoryLayer = Layer.mergeAll(MemoryServiceRepository.layer, MemoryTemplateRepository.layer)

const backends: Array<{ name: string; db: Layer.Layer<SqlClient.SqlClient> }> = [
  { name: "PGlite", db: TestDatabase.layerPglite() }
]
if (TestDatabase.realPostgresAvailable()) backends.push({ name: "PostgreSQL", db: TestDatabase.layerPg() })

describe(`ServiceRepository.search and searchJson: memory vs ${backends.map((b) => b.name).join(" vs ")}`, () => {
  const runtimes = backends.map((b) => ({
    name: b.name,
    runtime: ManagedRuntime.make(repositories.pipe(Layer.provideMerge(b.db)))
  }))

  beforeAll(() => Promise.all(runtimes.map((r) => r.runtime.runPromise(Effect.orDie(storeTemplates)))), 120_000)
  afterAll(() => Promise.all(runtimes.map((r) => r.runtime.dispose())), 60_000)

  it("identical ids in identical order and identical pages", async () => {
    // The property must not pass vacuously: enough queries have to match rows over several pages.
    let nonEmpty = 0
    let multiPage = 0
    await fc.assert(
      fc.asyncProperty(caseArb, async ([services, cases]) => {
        const dicts: Array<Dict> = cases.map((c) => ({
          ...Object.fromEntries(c.filters),
          ...(c.orderBy === "" ? {} : { order_by: c.orderBy }),
          limit: c.limit
        }))
        const runAll = Effect.gen(function*() {
          yield* load(services)
          return yield* Effect.forEach(dicts, pages)
        })
        const expected = await Effect.runPromise(
          Effect.orDie(Effect.zipRight(storeTemplates, runAll)).pipe(Effect.provide(memoryLayer))
        )
        for (const p of expected) {
          if (p.ids.flat().length > 0) nonEmpty++
          if (p.ids.length > 2) multiPage++ // more than one full page
        }
        for (const { name, runtime } of runtimes) {
          const got = await runtime.runPromise(
            Effect.gen(function*() {
              const sql = yield* SqlClient.SqlClient
              yield* sql`TRUNCATE customer_services, service_status_changes CASCADE`
              return yield* Effect.orDie(runAll)
            })
          )
          expect({ backend: name, pages: got }).toEqual({ backend: name, pages: expected })
        }
      }),
      { numRuns: 50 }
    )
    expect(nonEmpty).toBeGreaterThan(20)
    expect(multiPage).toBeGreaterThan(10)
  }, 300_000)
})
