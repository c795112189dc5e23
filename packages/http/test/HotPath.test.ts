/**
 * What the request path's shortcuts (issue #7) must keep: the filter-dict query schema decodes as
 * the `Schema.Record` it replaced did, tokens are still checked for expiry, and with a real tracer
 * installed every request still records its spans (none with `tracing: false`), none of which
 * carries the bearer token.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { DateTime, Effect, Layer, Redacted, Schema, type Tracer } from "effect"
import { createServer } from "node:http"
import { Api, HttpLayer, Security } from "@isp-framework/http"
import { RecordingTracer } from "@isp-framework/core/fixtures"
import { BaseUrl, BOOTSTRAP, MemoryPorts, request, UseCases } from "./support/Stack.js"

describe("FilterParams", () => {
  const decode = Schema.decodeUnknownSync(Api.FilterParams)

  it("a single value stays a string, a repeated key is a list (as HttpApiBuilder hands them over)", () => {
    expect(decode({ status: ["ACTIVE"], status__in: ["ACTIVE", "SUSPENDED"], limit: "5" })).toEqual({
      status: "ACTIVE",
      status__in: ["ACTIVE", "SUSPENDED"],
      limit: "5"
    })
    expect(decode({})).toEqual({})
  })

  it("anything but strings is a parse error", () => {
    expect(() => decode({ limit: 5 })).toThrow()
    expect(() => decode({ status: ["ACTIVE", 1] })).toThrow()
    expect(() => decode(["status"])).toThrow()
    expect(() => decode(null)).toThrow()
  })

  it("encodes to the same dict", () => {
    expect(Schema.encodeSync(Api.FilterParams)({ status: "ACTIVE", status__in: ["ACTIVE", "SUSPENDED"] })).toEqual({
      status: "ACTIVE",
      status__in: ["ACTIVE", "SUSPENDED"]
    })
  })
})

/** The API on memory adapters with `tracer` installed and the given tracing option. */
const tracedServer = (tracer: Tracer.Tracer, tracing: boolean) =>
  Layer.effect(
    BaseUrl,
    Effect.map(HttpServer.HttpServer, (server) => {
      const a = server.address
      return a._tag === "TcpAddress" ? `http://127.0.0.1:${a.port}` : "http://localhost"
    })
  ).pipe(
    Layer.provideMerge(
      HttpLayer.layer({ logger: false, docs: false, tracing }).pipe(
        Layer.provide(Security.layerTokens({ bootstrapAdminToken: Redacted.make(BOOTSTRAP) })),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
    ),
    Layer.provideMerge(UseCases.pipe(Layer.provideMerge(MemoryPorts))),
    Layer.provide(Layer.setTracer(tracer))
  )

describe("spans", () => {
  const on = RecordingTracer.make()
  it.layer(tracedServer(on.tracer, true), { timeout: 30_000 })("with an exporter installed", (it) => {
    it.effect("a list request records the request, authentication and use-case spans", () =>
      Effect.gen(function*() {
        on.names.length = 0
        const r = yield* request("GET", "/v1/services?status=ACTIVE&limit=5", { token: BOOTSTRAP })
        expect(r.status).toBe(200)
        expect(on.names).toEqual(expect.arrayContaining(["http.server GET", "Authentication.bearer", "ServiceQuery.searchJson"]))
      }))
  })

  const kept = RecordingTracer.make({ keepSpans: true })
  it.layer(tracedServer(kept.tracer, true), { timeout: 30_000 })("what spans carry", (it) => {
    it.effect("no span attribute holds the bearer token, whether it is accepted or not", () =>
      Effect.gen(function*() {
        kept.spans.length = 0
        const issued = Redacted.value((yield* Security.issueToken({ scope: "api" })).token)
        const unknown = `isp_${"0".repeat(32)}_${"x".repeat(43)}`
        for (const token of [BOOTSTRAP, issued, unknown]) {
          const r = yield* request("GET", "/v1/services?status=ACTIVE&limit=5", { token })
          expect(r.status).toBe(token === unknown ? 401 : 200)
        }
        const request_ = kept.spans.filter((s) => s.name === "http.server GET")
        expect(request_).toHaveLength(3)
        // The request span lists the request headers: the authorization one is there, redacted.
        expect(request_.map((s) => String(s.attributes.get("http.request.header.authorization")))).toEqual(
          Array(3).fill("<redacted>")
        )
        const values = kept.spans.flatMap((s) => [...s.attributes.values()].map((v) => String(v)))
        for (const token of [BOOTSTRAP, issued, unknown]) {
          expect(values.filter((v) => v.includes(token))).toEqual([])
        }
      }))
  })

  const off = RecordingTracer.make()
  it.layer(tracedServer(off.tracer, false), { timeout: 30_000 })("with tracing: false", (it) => {
    it.effect("no span reaches the tracer", () =>
      Effect.gen(function*() {
        off.names.length = 0
        const r = yield* request("GET", "/v1/services?status=ACTIVE&limit=5", { token: BOOTSTRAP })
        expect(r.status).toBe(200)
        expect(off.names).toEqual([])
      }))
  })
})

it.layer(tracedServer(RecordingTracer.make().tracer, false), { timeout: 30_000 })("tokens and filters on the fast path", (it) => {
  it.effect("an expired token is 401 'token expired'; a valid one works", () =>
    Effect.gen(function*() {
      const past = DateTime.subtract(yield* DateTime.now, { minutes: 1 })
      const expired = yield* Security.issueToken({ scope: "api", expiresAt: past })
      const r = yield* request("GET", "/v1/services", { token: Redacted.value(expired.token) })
      expect(r.status).toBe(401)
      expect(r.body).toMatchObject({ _tag: "Unauthorized", reason: "token expired" })
      const valid = yield* Security.issueToken({ scope: "api" })
      expect((yield* request("GET", "/v1/services", { token: Redacted.value(valid.token) })).status).toBe(200)
    }))

  it.effect("a repeated key is a list: fine for __in, a typed 400 for a single-value filter", () =>
    Effect.gen(function*() {
      const list = yield* request("GET", "/v1/services?status__in=ACTIVE&status__in=SUSPENDED", { token: BOOTSTRAP })
      expect(list.status).toBe(200)
      const scalar = yield* request("GET", "/v1/services?status=ACTIVE&status=SUSPENDED", { token: BOOTSTRAP })
      expect(scalar.status).toBe(400)
      expect(scalar.body).toMatchObject({ _tag: "InvalidFilter", key: "status" })
    }))
})
