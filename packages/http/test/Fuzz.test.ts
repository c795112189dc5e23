/**
 * Fuzz: random query strings, JSON bodies, path ids and non-JSON bodies against every endpoint,
 * as admin and as a customer. Whatever the input, the answer is never a 5xx.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { BaseUrl, issue, MemoryPorts, request, seedCatalog, serverOn } from "./support/Stack.js"

const endpoints: ReadonlyArray<readonly [string, string]> = [
  ["POST", "/v1/services/internet"],
  ["GET", "/v1/services"],
  ["GET", "/v1/services/{id}"],
  ["GET", "/v1/services/{id}/usage"],
  ["PATCH", "/v1/services/{id}/suspend"],
  ["PATCH", "/v1/services/{id}/resume"],
  ["PATCH", "/v1/services/{id}/terminate"],
  ["GET", "/v1/templates"],
  ["POST", "/v1/templates"],
  ["GET", "/v1/workflows/{id}"],
  ["GET", "/v1/alerts"],
  ["GET", "/v1/alerts/stream"],
  ["POST", "/v1/alerts/{id}/acknowledge"],
  ["POST", "/v1/alerts/{id}/resolve"],
  ["POST", "/v1/tokens"],
  ["DELETE", "/v1/tokens/{id}"]
]

const keys = fc.constantFrom(
  "status", "status__in", "customer_id", "created_at__gte", "order_by", "limit", "cursor", "include",
  "name", "price__lt", "severity", "type", "service_type", "x", "__", "status__bogus", "id__in",
  "from", "to", "granularity"
)
const values = fc.oneof(
  fc.string(),
  fc.constantFrom("ACTIVE", "-created_at", "0", "-1", "99999999999999999999", "template,workflow", "2026-01-01T00:00:00Z", "", ",", "null", "true",
    "HOUR", "DAY", "PERIOD", "2030-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
  fc.uuid()
)
const query = fc.array(fc.tuple(keys, values), { maxLength: 5 }).map((pairs) =>
  pairs.length === 0 ? "" : "?" + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")
)
const json = fc.oneof(
  fc.jsonValue(),
  fc.record({
    customerId: fc.oneof(fc.string(), fc.integer()),
    templateId: fc.oneof(fc.uuid(), fc.string()),
    connectionType: fc.constantFrom("PPPOE", "DHCP", "STATIC", "X"),
    pppoeUsername: fc.string(),
    pppoePassword: fc.string(),
    macAddress: fc.string(),
    reason: fc.constantFrom("NON_PAYMENT", "ABUSE", "nope"),
    type: fc.constantFrom("FULL", "SPEED_LIMIT", 3),
    serviceType: fc.constantFrom("INTERNET", "VOICE", "BUNDLE", "RECURRING", "ADDON"),
    name: fc.string(),
    displayName: fc.string(),
    tariffId: fc.string(),
    notes: fc.anything()
  }, { requiredKeys: [] })
)
const body = fc.oneof(
  json.map((j) => JSON.stringify(j)),
  fc.string(),
  fc.constant(""),
  fc.constant("{\"a\":")
)
const pathIds = (known: ReadonlyArray<string>) =>
  fc.oneof(fc.constantFrom(...known), fc.uuid(), fc.string({ minLength: 1 }).map(encodeURIComponent), fc.constant("%"))

it.layer(serverOn(MemoryPorts), { timeout: 120_000 })("fuzz", (it) => {
  it.effect("no input ever produces a 5xx", () =>
    Effect.gen(function*() {
      const base = yield* BaseUrl
      const admin = yield* issue("api")
      const customer = yield* issue("customer", "fuzz-customer")
      const { template } = yield* seedCatalog()
      // A real service (the customer's own), so id routes get past 404 too.
      const provisioned = yield* request("POST", "/v1/services/internet", {
        token: admin,
        body: { customerId: "fuzz-customer", templateId: template.id, connectionType: "DHCP", macAddress: "02:00:00:00:00:01" }
      })
      expect(provisioned.status).toBe(202)
      const pathId = pathIds([provisioned.body.service.id, provisioned.body.workflow.id])
      const statuses = new Set<number>()
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...endpoints),
            query,
            body,
            pathId,
            fc.constantFrom(admin, customer, "", "garbage"),
            fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", undefined),
            async ([method, template], q, b, id, token, contentType) => {
              const path = template.replace("{id}", id)
              const headers: Record<string, string> = {}
              if (token !== "") headers["authorization"] = `Bearer ${token}`
              if (contentType !== undefined) headers["content-type"] = contentType
              const res = await fetch(base + path + q, {
                method,
                headers,
                ...(method === "GET" || method === "DELETE" ? {} : { body: b })
              })
              statuses.add(res.status)
              // An SSE stream never ends by itself: the status and headers are the answer.
              if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
                await res.body?.cancel()
                return
              }
              const text = await res.text()
              if (res.status >= 500) throw new Error(`${method} ${path}${q} -> ${res.status}: ${text}`)
            }
          ),
          { numRuns: 600 }
        )
      )
      // The fuzz reached past auth and validation, not only 401s.
      expect([...statuses].some((s) => s >= 200 && s < 300)).toBe(true)
      expect(statuses.has(400)).toBe(true)
    }))
})
