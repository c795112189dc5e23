/**
 * The services, templates and tokens endpoints once more on a real database (PostgreSQL when
 * DATABASE_URL is set — a fresh database for this file — else PGlite), through the Pg repositories.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PgUsageStore, PostgresLayer } from "@isp-framework/adapters"
import { WorkflowEngine } from "@isp-framework/core"
import * as TestDatabase from "../../adapters/test/support/TestDatabase.js"
import { issue, request, seedCatalog, serverOn, SimulatedNetwork } from "./support/Stack.js"

const PgPorts = Layer.mergeAll(
  PostgresLayer.layer,
  PgUsageStore.layer(),
  SimulatedNetwork
).pipe(Layer.provideMerge(TestDatabase.layer()))

const uniq = () => Math.random().toString(36).slice(2, 10)

it.layer(serverOn(PgPorts), { timeout: 120_000 })("HTTP v1 on the SQL adapters", (it) => {
  it.effect("provision, search with filters + include, get, scope, suspend, tokens", () =>
    Effect.gen(function*() {
      const admin = yield* issue("api")
      const { template } = yield* seedCatalog()
      const customer = `pg-${uniq()}`
      const started = yield* request("POST", "/v1/services/internet", {
        token: admin,
        body: { customerId: customer, templateId: template.id, pppoeUsername: `u-${uniq()}`, pppoePassword: "pw-123456" },
        headers: { "idempotency-key": `k-${uniq()}` }
      })
      expect(started.status).toBe(202)
      expect(started.text).not.toContain("pw-123456")
      yield* (yield* WorkflowEngine).drain([started.body.workflow.id])
      const id = started.body.service.id

      const page = yield* request("GET", `/v1/services?status=ACTIVE&customer_id__in=${customer},nobody&order_by=-created_at&limit=50&include=template,ip_assignments,workflow`, { token: admin })
      expect(page.status).toBe(200)
      expect(page.body.items.map((s: any) => s.id)).toEqual([id])
      expect(page.body.items[0].ipAssignments).toHaveLength(1)
      expect(page.body.items[0].template.name).toBe(template.name)
      expect(page.body.next_cursor).toBeNull()

      const bad = yield* request("GET", "/v1/services?created_at__gte=yesterday", { token: admin })
      expect(bad.status).toBe(400)
      expect(bad.body.key).toBe("created_at__gte")

      const mine = yield* issue("customer", customer)
      const other = yield* issue("customer", `x-${uniq()}`)
      expect((yield* request("GET", `/v1/services/${id}`, { token: mine })).status).toBe(200)
      expect((yield* request("GET", `/v1/services/${id}`, { token: other })).status).toBe(404)

      const s = yield* request("PATCH", `/v1/services/${id}/suspend`, { token: admin, body: { reason: "ABUSE", type: "FULL" } })
      expect(s.status).toBe(202)
      expect(s.body.service.status).toBe("SUSPENDED")

      const issued = yield* request("POST", "/v1/tokens", { token: admin, body: { customerId: customer } })
      expect(issued.status).toBe(201)
      expect((yield* request("GET", "/v1/services", { token: issued.body.token })).body.items).toHaveLength(1)
      expect((yield* request("DELETE", `/v1/tokens/${issued.body.id}`, { token: admin })).status).toBe(200)
      expect((yield* request("GET", "/v1/services", { token: issued.body.token })).status).toBe(401)
    }))
})
