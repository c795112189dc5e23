/**
 * Real peer: FreeRADIUS's radclient sends Accounting-Request Start / Interim-Update / Stop to our
 * accounting server; the usage API shows the totals (past 4 GB via Gigawords), a retransmitted
 * interim counts once, and a packet signed with the wrong secret gets no response.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option } from "effect"
import { MemoryUsageStore, ServiceProvisioning, ServiceRepository, ServiceUsage, WorkflowEngine } from "@isp-framework/core"
import * as AccountingServer from "../../src/radius/AccountingServer.js"
import { radclientAcct } from "./radclient.js"
import { pppoeRequest, setupPlan, testLayer } from "../../../core/test/workflows/fixtures.js"

const SECRET = "acct-secret-1"
const GW = 4_294_967_296

const radclient = radclientAcct

const layer = Layer.mergeAll(ServiceUsage.Default).pipe(
  Layer.provideMerge(MemoryUsageStore.layerAll),
  Layer.provideMerge(testLayer())
)

describe("AccountingServer with radclient", () => {
  it.live("Start / Interim (> 4 GB, retransmitted) / Stop → usage totals; wrong secret dropped", () =>
    Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "acct1"))
      yield* (yield* WorkflowEngine).drain([started.workflow.id])
      const service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(started.service.id))
      expect(service.status).toBe("ACTIVE")

      const server = yield* AccountingServer.make({
        port: 0,
        secretFor: (addr) => (addr === "127.0.0.1" ? SECRET : undefined),
        batchSize: 100
      })
      const now = Math.floor(Date.now() / 1000)
      const base = [
        ["User-Name", "useracct1@isp"],
        ["Acct-Session-Id", "sess-0001"],
        ["NAS-IP-Address", "127.0.0.1"],
        ["NAS-Port", 7],
        ["Framed-IP-Address", "10.20.0.9"]
      ] as const
      const send = (attrs: ReadonlyArray<readonly [string, string | number]>, secret = SECRET) =>
        radclient(server.port, secret, [...base, ...attrs])

      const start = yield* send([["Acct-Status-Type", "Start"], ["Event-Timestamp", now - 600], ["Acct-Session-Time", 0]])
      expect(start.code, start.out).toBe(0)
      expect(start.out).toMatch(/Received Accounting-Response/)
      const interim = [
        ["Acct-Status-Type", "Interim-Update"], ["Event-Timestamp", now - 300], ["Acct-Session-Time", 300],
        ["Acct-Input-Octets", 1000], ["Acct-Input-Gigawords", 1], ["Acct-Output-Octets", 5000], ["Acct-Output-Gigawords", 2]
      ] as const
      expect((yield* send(interim)).code).toBe(0)
      expect((yield* send(interim)).code).toBe(0) // retransmit
      const bad = yield* send(interim.map(([k, v]) => [k, k === "Acct-Input-Octets" ? 999_999 : v] as const), "wrong-secret")
      expect(bad.code).not.toBe(0)
      expect(bad.out).not.toMatch(/Received Accounting-Response/)
      const stop = yield* send([
        ["Acct-Status-Type", "Stop"], ["Event-Timestamp", now - 10], ["Acct-Session-Time", 590],
        ["Acct-Input-Octets", 2000], ["Acct-Input-Gigawords", 1], ["Acct-Output-Octets", 9000], ["Acct-Output-Gigawords", 2],
        ["Acct-Terminate-Cause", "User-Request"]
      ])
      expect(stop.code, stop.out).toBe(0)

      const usage = yield* ServiceUsage
      const report = yield* usage.usage(service.id, {
        from: DateTime.unsafeMake((now - 86_400) * 1000) as DateTime.Utc,
        to: DateTime.unsafeMake((now + 86_400) * 1000) as DateTime.Utc,
        granularity: "HOUR"
      })
      expect(report.bytesIn).toBe(BigInt(GW) + 2000n)
      expect(report.bytesOut).toBe(2n * BigInt(GW) + 9000n)
      expect(report.sessionSeconds).toBe(590)
      expect(report.periodBytes).toBe(3n * BigInt(GW) + 11000n)
      expect(report.openSessions).toBe(0)
      const [session] = yield* usage.sessions(service.id)
      expect([session!.status, session!.closeReason]).toEqual(["CLOSED", "User-Request"])
      const stats = yield* server.stats
      expect(stats.invalidAuthenticator).toBeGreaterThanOrEqual(1)
      expect(stats.accepted).toBe(4)
    }).pipe(Effect.scoped, Effect.provide(layer)), 30_000)
})
