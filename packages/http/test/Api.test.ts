/**
 * The v1 API through a real listening server on the memory adapters: every endpoint's success and
 * error statuses, the error body shape, and the auth matrix.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { AlertRepository, type CustomerId, RaiseAlert, type ServiceId, WorkflowEngine } from "@isp-framework/core"
import { BOOTSTRAP, issue, MemoryPorts, request, seedCatalog, serverOn } from "./support/Stack.js"

const provisionBody = (templateId: string, customerId: string, username: string) => ({
  customerId,
  templateId,
  connectionType: "PPPOE",
  pppoeUsername: username,
  pppoePassword: "s3cret-pass"
})

const uniq = () => Math.random().toString(36).slice(2, 10)

/** Provisions through the API as admin and runs the workflow to completion. */
const provisioned = (admin: string, templateId: string, customerId: string) =>
  Effect.gen(function*() {
    const r = yield* request("POST", "/v1/services/internet", {
      token: admin,
      body: provisionBody(templateId, customerId, `user-${uniq()}`)
    })
    expect(r.status).toBe(202)
    const engine = yield* WorkflowEngine
    yield* engine.drain([r.body.workflow.id])
    return r.body.service.id as ServiceId
  })

it.layer(serverOn(MemoryPorts), { timeout: 60_000 })("HTTP v1 on memory adapters", (it) => {
  describe("auth", () => {
    it.effect("no token, bad token and malformed tokens are 401 with a JSON body", () =>
      Effect.gen(function*() {
        for (const token of [undefined, "nope", "isp_00000000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a.b.c"]) {
          const r = yield* request("GET", "/v1/services", { token })
          expect(r.status).toBe(401)
          expect(r.body._tag).toBe("Unauthorized")
          expect(typeof r.body.message).toBe("string")
        }
      }))

    it.effect("the bootstrap admin token and issued admin tokens work", () =>
      Effect.gen(function*() {
        expect((yield* request("GET", "/v1/services", { token: BOOTSTRAP })).status).toBe(200)
        const admin = yield* issue("api")
        expect((yield* request("GET", "/v1/templates", { token: admin })).status).toBe(200)
      }))

    it.effect("customer A sees A's services only; B's service is 404; admin routes are 403", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const a = `cust-a-${uniq()}`
        const b = `cust-b-${uniq()}`
        const svcA = yield* provisioned(admin, template.id, a)
        const svcB = yield* provisioned(admin, template.id, b)
        const tokenA = yield* issue("customer", a)

        const own = yield* request("GET", `/v1/services/${svcA}`, { token: tokenA })
        expect(own.status).toBe(200)
        expect(own.body.customerId).toBe(a)

        const other = yield* request("GET", `/v1/services/${svcB}`, { token: tokenA })
        expect(other.status).toBe(404)
        expect(other.body._tag).toBe("ServiceNotFound")

        const list = yield* request("GET", `/v1/services?limit=100`, { token: tokenA })
        expect(list.status).toBe(200)
        expect(list.body.items.map((s: any) => s.id)).toEqual([svcA])

        // Even asking for B explicitly in the filter shows nothing.
        const sneaky = yield* request("GET", `/v1/services?customer_id=${b}`, { token: tokenA })
        expect(sneaky.body.items).toEqual([])

        for (const [method, path, body] of [
          ["POST", "/v1/services/internet", provisionBody(template.id, a, `u-${uniq()}`)],
          ["PATCH", `/v1/services/${svcA}/suspend`, { reason: "NON_PAYMENT", type: "FULL" }],
          ["PATCH", `/v1/services/${svcA}/resume`, undefined],
          ["PATCH", `/v1/services/${svcA}/terminate`, undefined],
          ["POST", "/v1/templates", { serviceType: "VOICE" }],
          ["POST", "/v1/tokens", { customerId: a }]
        ] as const) {
          const r = yield* request(method, path, { token: tokenA, body })
          // Body validation may come first for an invalid body; a valid one is refused with 403.
          expect([403, 400]).toContain(r.status)
          if (method !== "POST" || path !== "/v1/templates") expect(r.status).toBe(403)
        }

        // Nothing was changed by the refused calls.
        const after = yield* request("GET", `/v1/services/${svcA}`, { token: admin })
        expect(after.body.status).toBe("ACTIVE")
      }))
  })

  describe("services", () => {
    it.effect("provision: 202 with service + workflow, no password in the JSON, idempotent by key", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const body = provisionBody(template.id, `c-${uniq()}`, `user-${uniq()}`)
        const key = `key-${uniq()}`
        const first = yield* request("POST", "/v1/services/internet", { token: admin, body, headers: { "idempotency-key": key } })
        expect(first.status).toBe(202)
        expect(first.body.service.status).toBe("PENDING")
        expect(first.body.workflow.kind).toBe("ACTIVATE")
        expect(first.body.created).toBe(true)
        expect(first.text).not.toContain("pppoePassword")
        expect(first.text).not.toContain("s3cret-pass")
        const again = yield* request("POST", "/v1/services/internet", { token: admin, body, headers: { "idempotency-key": key } })
        expect(again.status).toBe(202)
        expect(again.body.service.id).toBe(first.body.service.id)
        expect(again.body.created).toBe(false)

        const wf = yield* request("GET", `/v1/workflows/${first.body.workflow.id}`, { token: admin })
        expect(wf.status).toBe(200)
        expect(wf.body.id).toBe(first.body.workflow.id)
      }))

    it.effect("provision errors: unknown template 404, missing credentials 422, taken username 409, bad enum 400", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const missing = yield* request("POST", "/v1/services/internet", {
          token: admin,
          body: provisionBody("0190a3f1-0000-7000-8000-000000000000", "c1", `u-${uniq()}`)
        })
        expect(missing.status).toBe(404)
        expect(missing.body).toMatchObject({ _tag: "TemplateNotFound", templateId: "0190a3f1-0000-7000-8000-000000000000" })
        expect(missing.body.message).toContain("not found")

        const noPassword = yield* request("POST", "/v1/services/internet", {
          token: admin,
          body: { customerId: "c1", templateId: template.id, connectionType: "PPPOE", pppoeUsername: `u-${uniq()}` }
        })
        expect(noPassword.status).toBe(422)
        expect(noPassword.body).toMatchObject({ _tag: "ValidationError", field: "pppoePassword" })

        const username = `u-${uniq()}`
        const ok = yield* request("POST", "/v1/services/internet", { token: admin, body: provisionBody(template.id, "c1", username) })
        expect(ok.status).toBe(202)
        const dup = yield* request("POST", "/v1/services/internet", { token: admin, body: provisionBody(template.id, "c2", username) })
        expect(dup.status).toBe(409)
        expect(dup.body._tag).toBe("Conflict")

        const badEnum = yield* request("POST", "/v1/services/internet", {
          token: admin,
          body: { ...provisionBody(template.id, "c1", `u-${uniq()}`), connectionType: "CARRIER_PIGEON" }
        })
        expect(badEnum.status).toBe(400)
        expect(badEnum.body._tag).toBe("HttpApiDecodeError")
        expect(JSON.stringify(badEnum.body.issues)).toContain("connectionType")

        const malformed = yield* request("POST", "/v1/services/internet", { token: admin, rawBody: "{not json" })
        expect(malformed.status).toBe(400)
        expect(malformed.body).toMatchObject({ _tag: "MalformedBody", field: "body" })
      }))

    it.effect("search: filters, include, pagination and filter errors naming the key", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const customer = `c-${uniq()}`
        const ids = [
          yield* provisioned(admin, template.id, customer),
          yield* provisioned(admin, template.id, customer),
          yield* provisioned(admin, template.id, customer)
        ]
        const page1 = yield* request("GET", `/v1/services?customer_id=${customer}&status=ACTIVE&order_by=-created_at&limit=2&include=template,ip_assignments,workflow`, { token: admin })
        expect(page1.status).toBe(200)
        expect(page1.body.items).toHaveLength(2)
        expect(page1.body.items[0].template.id).toBe(template.id)
        expect(page1.body.items[0].ipAssignments).toHaveLength(1)
        expect(page1.body.items[0].workflow.status).toBe("SUCCEEDED")
        expect(page1.text).not.toContain("pppoePassword")
        expect(typeof page1.body.next_cursor).toBe("string")
        const page2 = yield* request("GET", `/v1/services?customer_id=${customer}&status=ACTIVE&order_by=-created_at&limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`, { token: admin })
        expect(page2.body.items).toHaveLength(1)
        expect(page2.body.next_cursor).toBeNull()
        expect([...page1.body.items, ...page2.body.items].map((s: any) => s.id).sort()).toEqual([...ids].sort())

        const unknown = yield* request("GET", "/v1/services?colour=red", { token: admin })
        expect(unknown.status).toBe(400)
        expect(unknown.body).toMatchObject({ _tag: "InvalidFilter", key: "colour" })
        const badEnum = yield* request("GET", "/v1/services?status=SLEEPING", { token: admin })
        expect(badEnum.status).toBe(400)
        expect(badEnum.body).toMatchObject({ _tag: "InvalidFilter", key: "status" })
        const badCursor = yield* request("GET", "/v1/services?cursor=garbage", { token: admin })
        expect(badCursor.status).toBe(400)
        expect(badCursor.body._tag).toBe("InvalidCursor")
        const badInclude = yield* request("GET", `/v1/services/${ids[0]}?include=everything`, { token: admin })
        expect(badInclude.status).toBe(400)
        expect(badInclude.body).toMatchObject({ _tag: "InvalidFilter", key: "include" })
        const badId = yield* request("GET", "/v1/services/not-a-uuid", { token: admin })
        expect(badId.status).toBe(400)
        const absent = yield* request("GET", "/v1/services/0190a3f1-0000-7000-8000-000000000000", { token: admin })
        expect(absent.status).toBe(404)
      }))

    it.effect("suspend / resume / terminate: 202, then 409 on an invalid transition", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const id = yield* provisioned(admin, template.id, `c-${uniq()}`)
        const engine = yield* WorkflowEngine

        const badReason = yield* request("PATCH", `/v1/services/${id}/suspend`, { token: admin, body: { reason: "BORED" } })
        expect(badReason.status).toBe(400)
        expect(JSON.stringify(badReason.body.issues)).toContain("reason")

        const s = yield* request("PATCH", `/v1/services/${id}/suspend`, {
          token: admin,
          body: { reason: "NON_PAYMENT", type: "SPEED_LIMIT", note: "overdue" }
        })
        expect(s.status).toBe(202)
        expect(s.body.service).toMatchObject({ status: "SUSPENDED", suspensionReason: "NON_PAYMENT", suspensionType: "SPEED_LIMIT" })
        expect(s.body.workflow.kind).toBe("SUSPEND")
        yield* engine.drain([s.body.workflow.id])

        const twice = yield* request("PATCH", `/v1/services/${id}/suspend`, { token: admin, body: { reason: "NON_PAYMENT" } })
        expect(twice.status).toBe(409)
        expect(twice.body._tag).toBe("InvalidTransition")

        const r = yield* request("PATCH", `/v1/services/${id}/resume`, { token: admin })
        expect(r.status).toBe(202)
        expect(r.body.service.status).toBe("ACTIVE")
        yield* engine.drain([r.body.workflow.id])

        const t = yield* request("PATCH", `/v1/services/${id}/terminate`, { token: admin })
        expect(t.status).toBe(202)
        expect(t.body.service.status).toBe("TERMINATED")
        yield* engine.drain([t.body.workflow.id])
        const resumeDead = yield* request("PATCH", `/v1/services/${id}/resume`, { token: admin })
        expect(resumeDead.status).toBe(409)

        const none = yield* request("PATCH", `/v1/services/0190a3f1-0000-7000-8000-000000000000/terminate`, { token: admin })
        expect(none.status).toBe(404)
      }))
  })

  describe("templates, workflows, tokens", () => {
    it.effect("templates: list with filters, create 201, validation 422, duplicate 409, customer may list", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const name = `voice-${uniq()}`
        const body = {
          serviceType: "VOICE",
          name,
          displayName: "Voice basic",
          tariffId: "tariff-voice",
          voice: { includedMinutes: 100, perMinuteRate: 0.02 }
        }
        const created = yield* request("POST", "/v1/templates", { token: admin, body })
        expect(created.status).toBe(201)
        expect(created.body).toMatchObject({ name, serviceType: "VOICE", billingModel: "POSTPAID" })
        const dup = yield* request("POST", "/v1/templates", { token: admin, body })
        expect(dup.status).toBe(409)
        const noPart = yield* request("POST", "/v1/templates", { token: admin, body: { ...body, name: `x-${uniq()}`, voice: null } })
        expect(noPart.status).toBe(422)
        expect(noPart.body).toMatchObject({ _tag: "ValidationError", field: "voice" })

        const list = yield* request("GET", `/v1/templates?name=${name}`, { token: admin })
        expect(list.status).toBe(200)
        expect(list.body.items.map((t: any) => t.name)).toEqual([name])
        const bad = yield* request("GET", "/v1/templates?price__foo=1", { token: admin })
        expect(bad.status).toBe(400)
        expect(bad.body.key).toBe("price__foo")

        const customer = yield* issue("customer", "someone")
        expect((yield* request("GET", "/v1/templates", { token: customer })).status).toBe(200)
        expect((yield* request("POST", "/v1/templates", { token: customer, body: { ...body, name: `y-${uniq()}` } })).status).toBe(403)
      }))

    it.effect("workflows: 404 when absent or another customer's", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const r = yield* request("POST", "/v1/services/internet", { token: admin, body: provisionBody(template.id, "wf-owner", `u-${uniq()}`) })
        const owner = yield* issue("customer", "wf-owner")
        const stranger = yield* issue("customer", "wf-stranger")
        expect((yield* request("GET", `/v1/workflows/${r.body.workflow.id}`, { token: owner })).status).toBe(200)
        const hidden = yield* request("GET", `/v1/workflows/${r.body.workflow.id}`, { token: stranger })
        expect(hidden.status).toBe(404)
        expect(hidden.body._tag).toBe("WorkflowNotFound")
        expect((yield* request("GET", "/v1/workflows/0190a3f1-0000-7000-8000-000000000000", { token: admin })).status).toBe(404)
      }))

    it.effect("tokens: admin issues a customer token (shown once) that then works; revoke makes it 401", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const issued = yield* request("POST", "/v1/tokens", { token: admin, body: { customerId: "portal-1", name: "portal" } })
        expect(issued.status).toBe(201)
        expect(issued.body).toMatchObject({ scope: "customer", customerId: "portal-1", name: "portal" })
        expect(issued.body.token).toMatch(/^isp_/)
        expect((yield* request("GET", "/v1/services", { token: issued.body.token })).status).toBe(200)
        const revoked = yield* request("DELETE", `/v1/tokens/${issued.body.id}`, { token: admin })
        expect(revoked.status).toBe(200)
        expect(revoked.text).not.toContain("secretHash")
        expect((yield* request("GET", "/v1/services", { token: issued.body.token })).status).toBe(401)
        expect((yield* request("DELETE", "/v1/tokens/0190a3f1-0000-7000-8000-000000000000", { token: admin })).status).toBe(404)
        const bad = yield* request("POST", "/v1/tokens", { token: admin, body: { customerId: "" } })
        expect(bad.status).toBe(400)
      }))
  })

  describe("alerts", () => {
    it.effect("list (scoped for customers), acknowledge, resolve, 404 and 409", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const alerts = yield* AlertRepository
        const mine = `alert-cust-${uniq()}`
        const { alert } = yield* alerts.raise(new RaiseAlert({
          customerId: mine as CustomerId,
          type: "QUOTA_WARNING",
          severity: "WARNING",
          title: "80% used",
          message: "80% of the monthly quota used",
          cause: `QUOTA_WARNING:80:${uniq()}`
        }), yield* DateTime.now)
        const customer = yield* issue("customer", mine)
        const stranger = yield* issue("customer", `other-${uniq()}`)
        const seen = yield* request("GET", "/v1/alerts?status=OPEN", { token: customer })
        expect(seen.status).toBe(200)
        expect(seen.body.items.map((a: any) => a.id)).toEqual([alert.id])
        expect((yield* request("GET", "/v1/alerts", { token: stranger })).body.items).toEqual([])
        expect((yield* request("GET", "/v1/alerts?severity=LOUD", { token: admin })).status).toBe(400)

        expect((yield* request("POST", `/v1/alerts/${alert.id}/acknowledge`, { token: customer })).status).toBe(403)
        const ack = yield* request("POST", `/v1/alerts/${alert.id}/acknowledge`, { token: admin })
        expect(ack.status).toBe(200)
        expect(ack.body.status).toBe("ACKNOWLEDGED")
        const res = yield* request("POST", `/v1/alerts/${alert.id}/resolve`, { token: admin, body: { notes: "topped up" } })
        expect(res.status).toBe(200)
        expect(res.body).toMatchObject({ status: "RESOLVED", resolutionNotes: "topped up" })
        const again = yield* request("POST", `/v1/alerts/${alert.id}/resolve`, { token: admin, body: {} })
        expect(again.status).toBe(409)
        expect(again.body._tag).toBe("AlertAlreadyResolved")
        expect((yield* request("POST", "/v1/alerts/0190a3f1-0000-7000-8000-000000000000/acknowledge", { token: admin })).status).toBe(404)
      }))
  })

  describe("OpenAPI and docs", () => {
    it.effect("openapi.json describes every v1 path; /docs needs no CDN", () =>
      Effect.gen(function*() {
        const spec = yield* request("GET", "/v1/openapi.json")
        expect(spec.status).toBe(200)
        const paths = Object.keys(spec.body.paths)
        for (const p of ["/v1/services/internet", "/v1/services", "/v1/services/{id}", "/v1/services/{id}/suspend", "/v1/templates", "/v1/workflows/{id}", "/v1/alerts", "/v1/tokens", "/v1/services/{id}/usage", "/v1/alerts/stream"]) {
          expect(paths).toContain(p)
        }
        // The password may be sent (provisioning) but is never part of a response schema.
        expect(Object.keys(spec.body.components.schemas.Service.properties)).not.toContain("pppoePassword")
        // Byte counts are decimal strings; the stream is documented as text/event-stream.
        expect(spec.body.components.schemas.UsageReport.properties.bytesOut.type).toBe("string")
        expect(Object.keys(spec.body.paths["/v1/alerts/stream"].get.responses["200"].content)).toEqual(["text/event-stream"])
        expect(spec.body.components.schemas.ServiceNotFound.required).toEqual(expect.arrayContaining(["_tag", "message", "serviceId"]))
        const docs = yield* request("GET", "/docs")
        expect(docs.status).toBe(200)
        expect(docs.text).toContain("swagger")
        expect(docs.text).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/)
      }))
  })
})
