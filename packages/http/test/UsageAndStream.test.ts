/**
 * `GET /v1/services/{id}/usage` and `GET /v1/alerts/stream` (SSE) through a real listening server on
 * the memory adapters: success, error statuses and the auth matrix.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import { type CustomerId, makeAccountingRecord, type ServiceId, WorkflowEngine } from "@isp-framework/core"
import { Handlers, Security } from "@isp-framework/http"
import { DateTime, Effect, Exit, Layer, Metric, Redacted, Scope } from "effect"
import { ServiceAlerts, ServiceUsage, TokenRepository } from "../src/internal/core.js"
import { BaseUrl, issue, MemoryPorts, request, seedCatalog, serverOn } from "./support/Stack.js"

const uniq = () => Math.random().toString(36).slice(2, 10)

const provisioned = (admin: string, templateId: string, customerId: string, username: string) =>
  Effect.gen(function*() {
    const r = yield* request("POST", "/v1/services/internet", {
      token: admin,
      body: { customerId, templateId, connectionType: "PPPOE", pppoeUsername: username, pppoePassword: "s3cret-pass" }
    })
    expect(r.status).toBe(202)
    yield* (yield* WorkflowEngine).drain([r.body.workflow.id])
    return r.body.service.id as ServiceId
  })

/** An open SSE connection: `until` reads until the accumulated text matches, or fails after `ms`. */
const openStream = (token: string | undefined) =>
  Effect.flatMap(BaseUrl, (base) =>
    Effect.promise(async () => {
      const abort = new AbortController()
      const res = await fetch(`${base}/v1/alerts/stream`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        signal: abort.signal
      })
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = ""
      const until = (test: (text: string) => boolean, ms = 5_000) =>
        Effect.promise(async () => {
          const deadline = Date.now() + ms
          while (!test(text)) {
            const left = deadline - Date.now()
            if (left <= 0) throw new Error(`SSE: timed out; got ${JSON.stringify(text)}`)
            const next = await Promise.race([
              reader.read(),
              new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), left))
            ])
            if (next === "timeout") continue
            if (next.done) throw new Error(`SSE: stream ended; got ${JSON.stringify(text)}`)
            text += decoder.decode(next.value, { stream: true })
          }
          return text
        })
      /** Resolves true once the server ends the body (false if it is still open after `ms`). */
      const ended = (ms = 5_000) =>
        Effect.promise(async () => {
          const deadline = Date.now() + ms
          while (Date.now() < deadline) {
            const next = await Promise.race([
              reader.read().catch(() => ({ done: true as const, value: undefined })),
              new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), deadline - Date.now()))
            ])
            if (next === "timeout") return false
            if (next.done) return true
            text += decoder.decode(next.value, { stream: true })
          }
          return false
        })
      return { res, until, ended, text: () => text, close: () => abort.abort() }
    }))

const streamGauge = Metric.value(Handlers.openAlertStreams).pipe(Effect.map((s) => s.value))

layer(serverOn(MemoryPorts, { alertHeartbeat: "150 millis" }), { timeout: 60_000, excludeTestServices: true })("usage and alert stream", (it) => {
  describe("GET /v1/services/{id}/usage", () => {
    it.effect("bytes as exact decimal strings, series, quota; customers see only their own service", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const a = `usage-a-${uniq()}`
        const username = `u-${uniq()}`
        const id = yield* provisioned(admin, template.id, a, username)
        const usage = yield* ServiceUsage
        const now = yield* DateTime.now
        const start = DateTime.subtract(now, { minutes: 20 })
        const base = { acctSessionId: `s-${uniq()}`, userName: username, nasIpAddress: "10.0.0.1" }
        // 3,000,000 gigawords: a counter far beyond 2^53, which a JSON number would round.
        yield* usage.ingest([
          makeAccountingRecord({ ...base, statusType: "Start", eventTime: start }),
          makeAccountingRecord({
            ...base,
            statusType: "Interim-Update",
            eventTime: DateTime.add(start, { minutes: 10 }),
            inputOctets: 1_000,
            outputOctets: 5_000,
            outputGigawords: 3_000_000,
            sessionTime: 600
          })
        ])
        const expectedOut = (3_000_000n * 4_294_967_296n + 5_000n).toString()
        const from = encodeURIComponent(DateTime.formatIso(DateTime.subtract(now, { hours: 2 })))
        const to = encodeURIComponent(DateTime.formatIso(DateTime.add(now, { hours: 1 })))
        const path = `/v1/services/${id}/usage?granularity=HOUR&from=${from}&to=${to}`

        const r = yield* request("GET", path, { token: admin })
        expect(r.status).toBe(200)
        expect(r.body).toMatchObject({ serviceId: id, granularity: "HOUR", bytesIn: "1000", bytesOut: expectedOut })
        expect(r.body.totalBytes).toBe((BigInt(expectedOut) + 1000n).toString())
        expect(r.body.series.length).toBeGreaterThan(0)
        expect(r.body.series.reduce((n: bigint, b: any) => n + BigInt(b.bytesOut), 0n).toString()).toBe(expectedOut)
        expect(r.body.quota).toMatchObject({ limit: null, exceeded: false })
        expect(typeof r.body.currentPeriod.start).toBe("string")
        expect(r.body.openSessions).toBe(1)

        // Defaults: the last 30 days in daily buckets.
        const byDay = yield* request("GET", `/v1/services/${id}/usage`, { token: admin })
        expect(byDay.status).toBe(200)
        expect(byDay.body.granularity).toBe("DAY")
        expect(byDay.body.bytesOut).toBe(expectedOut)

        const owner = yield* issue("customer", a)
        const stranger = yield* issue("customer", `usage-b-${uniq()}`)
        expect((yield* request("GET", path, { token: owner })).body.bytesOut).toBe(expectedOut)
        const hidden = yield* request("GET", path, { token: stranger })
        expect(hidden.status).toBe(404)
        expect(hidden.body._tag).toBe("ServiceNotFound")
        expect((yield* request("GET", path)).status).toBe(401)
        expect((yield* request("GET", path, { token: "garbage" })).status).toBe(401)
      }))

    it.effect("errors: unknown service 404, bad granularity / date 400, from ≥ to 400 naming `from`", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const { template } = yield* seedCatalog()
        const id = yield* provisioned(admin, template.id, `usage-e-${uniq()}`, `u-${uniq()}`)
        const absent = yield* request("GET", "/v1/services/0190a3f1-0000-7000-8000-000000000000/usage", { token: admin })
        expect(absent.status).toBe(404)
        expect(absent.body._tag).toBe("ServiceNotFound")
        const badGranularity = yield* request("GET", `/v1/services/${id}/usage?granularity=WEEK`, { token: admin })
        expect(badGranularity.status).toBe(400)
        expect(JSON.stringify(badGranularity.body)).toContain("granularity")
        expect((yield* request("GET", `/v1/services/${id}/usage?from=yesterday`, { token: admin })).status).toBe(400)
        const backwards = yield* request("GET", `/v1/services/${id}/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, { token: admin })
        expect(backwards.status).toBe(400)
        expect(backwards.body).toMatchObject({ _tag: "InvalidFilter", key: "from" })
        expect((yield* request("GET", "/v1/services/not-a-uuid/usage", { token: admin })).status).toBe(400)
      }))
  })

  describe("GET /v1/alerts/stream", () => {
    it.effect("admin sees every new alert, a customer only its own; heartbeats; 401 without a token", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const a = `sse-a-${uniq()}` as CustomerId
        const b = `sse-b-${uniq()}` as CustomerId
        const adminStream = yield* openStream(admin)
        const aStream = yield* openStream(yield* issue("customer", a))
        const bStream = yield* openStream(yield* issue("customer", b))
        try {
          expect(adminStream.res.status).toBe(200)
          expect(adminStream.res.headers.get("content-type")).toContain("text/event-stream")
          for (const s of [adminStream, aStream, bStream]) yield* s.until((t) => t.includes(": connected"))

          const alerts = yield* ServiceAlerts
          const { alert } = yield* alerts.raise({
            customerId: a,
            type: "QUOTA_WARNING",
            severity: "WARNING",
            title: "80% used",
            message: "80% of the monthly quota used",
            cause: `QUOTA_WARNING:80:${uniq()}`
          })
          const frame = `id: ${alert.id}\nevent: alert\ndata: `
          const seenByAdmin = yield* adminStream.until((t) => t.includes(frame))
          const data = JSON.parse(seenByAdmin.slice(seenByAdmin.indexOf(frame) + frame.length).split("\n")[0]!)
          expect(data).toMatchObject({ id: alert.id, customerId: a, type: "QUOTA_WARNING", status: "OPEN" })
          yield* aStream.until((t) => t.includes(frame))
          // B gets heartbeats, never A's alert.
          yield* bStream.until((t) => t.split(": heartbeat").length > 3)
          expect(bStream.text()).not.toContain(alert.id)
        } finally {
          adminStream.close()
          aStream.close()
          bStream.close()
        }

        const none = yield* request("GET", "/v1/alerts/stream")
        expect(none.status).toBe(401)
        expect(none.body._tag).toBe("Unauthorized")
        expect((yield* request("GET", "/v1/alerts/stream", { token: "garbage" })).status).toBe(401)
      }))

    it.effect("a client disconnect closes the stream on the server", () =>
      Effect.gen(function*() {
        const admin = yield* issue("api")
        const before = yield* streamGauge
        const s = yield* openStream(admin)
        yield* s.until((t) => t.includes(": connected"))
        expect(yield* streamGauge).toBe(before + 1)
        s.close()
        let now = yield* streamGauge
        for (let i = 0; i < 100 && now !== before; i++) {
          yield* Effect.sleep("20 millis")
          now = yield* streamGauge
        }
        expect(now).toBe(before)
      }))
  })

  describe("token cache", () => {
    it.effect("a token revoked outside the API stops working within the cache time (2 s)", () =>
      Effect.gen(function*() {
        const issued = yield* Security.issueToken({ scope: "customer", customerId: `cache-${uniq()}` as CustomerId })
        const token = Redacted.value(issued.token)
        expect((yield* request("GET", "/v1/services", { token })).status).toBe(200)
        yield* (yield* TokenRepository).revoke(issued.record.id, yield* DateTime.now)
        yield* Effect.sleep("2100 millis")
        const after = yield* request("GET", "/v1/services", { token })
        expect(after.status).toBe(401)
        expect(after.body.reason).toBe("token revoked")
      }))
  })

  describe("alerts through ServiceAlerts", () => {
    it.effect("a customer's list filter cannot widen past its own alerts", () =>
      Effect.gen(function*() {
        const alerts = yield* ServiceAlerts
        const a = `scope-a-${uniq()}` as CustomerId
        const b = `scope-b-${uniq()}` as CustomerId
        for (const c of [a, b]) {
          yield* alerts.raise({ customerId: c, type: "SLA_BREACH", severity: "ERROR", title: "t", message: "m", cause: `x-${uniq()}` })
        }
        const tokenA = yield* issue("customer", a)
        const own = yield* request("GET", `/v1/alerts?customer_id=${b}`, { token: tokenA })
        expect(own.status).toBe(200)
        expect(own.body.items.map((x: any) => x.customerId)).toEqual([a])
        const widened = yield* request("GET", `/v1/alerts?customer_id__in=${a},${b}`, { token: tokenA })
        expect(widened.body.items.map((x: any) => x.customerId)).toEqual([a])
        const admin = yield* issue("api")
        const both = yield* request("GET", `/v1/alerts?customer_id__in=${a},${b}`, { token: admin })
        expect(both.body.items.map((x: any) => x.customerId).sort()).toEqual([a, b].sort())
      }))
  })
})

it.live("shutting the server down ends open event streams instead of waiting for them", () =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(serverOn(MemoryPorts), scope)
    const admin = yield* Effect.provide(issue("api"), context)
    const stream = yield* Effect.provide(openStream(admin), context)
    yield* stream.until((t) => t.includes(": connected"))
    // Without the shutdown signal the server's close would wait for this response forever.
    yield* Scope.close(scope, Exit.void).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("shutdown hung") }))
    expect(yield* stream.ended()).toBe(true)
  }), 30_000)
