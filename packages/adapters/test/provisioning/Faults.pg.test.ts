/**
 * Fault tests on the real edges: each ends consistent — completed after retry, or compensated with
 * no orphan RADIUS row, router object or IP — and the Reconciler reports no drift.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import {
  IpAllocator,
  ServiceProvisioning,
  ServiceRepository,
  Worker,
  WorkflowEngine,
  WorkflowRepository
} from "@isp-framework/core"
import { Effect, Fiber, Option, Ref } from "effect"
import * as NasStub from "../support/NasStub.js"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import { expectNoDrift, finish, pppoeRequest, radiusRowCounts, realPostgres, routerRows, setupPlan, stack } from "./support.js"

const LEASE = 1_500

describe.skipIf(!realPostgres)("provisioning faults on the real edges", () => {
  layer(stack({ settings: { leaseMillis: LEASE } }), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("the router drops the connection mid-step: the step completes on a fresh connection, nothing duplicated", () =>
      Effect.gen(function*() {
        const { template } = yield* setupPlan({ cidr: "10.51.0.0/24" })
        const router = yield* RouterOsTestServerTag
        const provisioning = yield* ServiceProvisioning
        // The router applies the add but the client never hears back; then three more drops on the queue
        // menu outlast the adapter's own reconnect, so the engine retries the step too.
        router.dropOn("/queue/simple/add", { when: "after" })
        router.fault({ _tag: "Drop", when: "before" }, { command: "/queue/simple/print", times: 3, skip: 1 })
        const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "drop"))
        const wf = yield* finish(started)
        router.clearFaults()
        expect(wf.status).toBe("SUCCEEDED")
        expect(wf.steps.find((s) => s.name === "router_config")!.attempts).toBeGreaterThanOrEqual(2)
        const rows = routerRows(router, started.service.id)
        expect(rows.secrets).toHaveLength(1)
        expect(rows.queues).toHaveLength(1)
        expect(router.table("/queue/simple").filter((q) => q.name === `svc-${started.service.serviceNumber}`)).toHaveLength(1)
        yield* expectNoDrift(started.service.id)
      }), 60_000)

    it.effect("the NAS never answers the CoA: a Disconnect-Request follows and the workflow completes", () =>
      Effect.gen(function*() {
        const { template } = yield* setupPlan({ cidr: "10.52.0.0/24" })
        const nas = yield* NasStub.NasStubService
        const provisioning = yield* ServiceProvisioning
        const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "silent"))
        yield* finish(started)
        yield* nas.clear
        yield* nas.respondWithFn((request) => (request.kind === "CoA" ? NasStub.silent : NasStub.ack))
        const wf = yield* finish(yield* provisioning.suspend(started.service.id, { reason: "ABUSE", suspensionType: "FULL" }))
        yield* nas.respondWith(NasStub.ack)
        expect(wf.status).toBe("SUCCEEDED")
        expect(wf.steps.find((s) => s.name === "live_session")!.output).toEqual({
          coa: { result: "NoResponse" },
          disconnect: { result: "Ack" }
        })
        const kinds = (yield* nas.requests).map((r) => r.kind)
        expect(kinds.filter((k) => k === "CoA").length).toBeGreaterThanOrEqual(2) // retransmitted
        expect(kinds.at(-1)).toBe("Disconnect")
        yield* expectNoDrift(started.service.id)
      }), 60_000)

    it.effect("the worker is interrupted between two steps: another worker resumes after the lease", () =>
      Effect.gen(function*() {
        const { template } = yield* setupPlan({ cidr: "10.53.0.0/24" })
        const provisioning = yield* ServiceProvisioning
        const engine = yield* WorkflowEngine
        const repo = yield* WorkflowRepository
        const router = yield* RouterOsTestServerTag
        const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "crash"))
        const [claimed] = yield* repo.claimDue({ workerId: "A", leaseMillis: LEASE, limit: 1 })
        expect(claimed!.id).toBe(started.workflow.id)
        const checks = yield* Ref.make(0)
        // Dies right after the second step was saved (with the third started), before the third runs.
        const dieBeforeThird = Effect.flatMap(Ref.updateAndGet(checks, (n) => n + 1), (n) => (n === 3 ? Effect.interrupt : Effect.succeed(false)))
        const exit = yield* Effect.exit(engine.runClaimed(claimed!, "A", dieBeforeThird))
        expect(exit._tag).toBe("Failure")
        const stored = Option.getOrThrow(yield* repo.findById(started.workflow.id))
        // The second step's success and the third's start are one write: the third is RUNNING, not yet run.
      expect(stored.steps.map((s) => s.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "RUNNING", "PENDING", "PENDING"])
        expect(yield* engine.tick({ workerId: "B" })).toBe(0) // lease still held by A

        const worker = yield* Worker.start({ workerId: "B", pollInterval: "50 millis" })
        const done = yield* finish(started)
        yield* worker.stop
        expect(done.status).toBe("SUCCEEDED")
        // Only the step that was started when the worker died runs again.
      expect(done.steps.map((s) => s.attempts)).toEqual([1, 1, 2, 1, 1])
        const rows = routerRows(router, started.service.id)
        expect([rows.secrets.length, rows.queues.length]).toEqual([1, 1])
        expect(yield* (yield* IpAllocator).findByService(started.service.id)).toHaveLength(1)
        yield* expectNoDrift(started.service.id)
      }).pipe(Effect.scoped), 60_000)

    it.effect("the worker fiber is interrupted mid-step: the step is re-run after the lease, nothing duplicated", () =>
      Effect.gen(function*() {
        const { template } = yield* setupPlan({ cidr: "10.54.0.0/24" })
        const provisioning = yield* ServiceProvisioning
        const repo = yield* WorkflowRepository
        const router = yield* RouterOsTestServerTag
        router.hang("/queue/simple/add", 1)
        const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "midstep"))
        const a = yield* Worker.start({ workerId: "A", pollInterval: "20 millis" })
        // Wait until A is stuck inside router_config, then kill its fiber (no graceful stop).
        for (;;) {
          const wf = Option.getOrThrow(yield* repo.findById(started.workflow.id))
          if (wf.steps[2]!.status === "RUNNING") break
          yield* Effect.sleep("20 millis")
        }
        yield* Effect.sleep("100 millis")
        yield* Fiber.interrupt(a.fiber)
        router.clearFaults()
        const b = yield* Worker.start({ workerId: "B", pollInterval: "50 millis" })
        const done = yield* finish(started)
        yield* b.stop
        expect(done.status).toBe("SUCCEEDED")
        expect(done.steps[2]!.attempts).toBe(2)
        const rows = routerRows(router, started.service.id)
        expect([rows.secrets.length, rows.queues.length]).toEqual([1, 1])
        yield* expectNoDrift(started.service.id)
      }).pipe(Effect.scoped), 60_000)

    it.effect("FreeRADIUS's database rejects a row: compensated, FAILED, no orphan RADIUS row, router object or IP", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`
          CREATE OR REPLACE FUNCTION reject_bad_radreply() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.username = 'userbad@isp.net' THEN RAISE EXCEPTION 'radreply rejected for %', NEW.username; END IF;
            RETURN NEW;
          END $$`)
        yield* sql.unsafe(`CREATE TRIGGER reject_bad_radreply BEFORE INSERT ON radreply FOR EACH ROW EXECUTE FUNCTION reject_bad_radreply()`)
        const { template } = yield* setupPlan({ cidr: "10.55.0.0/24" })
        const provisioning = yield* ServiceProvisioning
        const router = yield* RouterOsTestServerTag
        const [bad, good] = yield* Effect.all([
          provisioning.provisionInternet(pppoeRequest(template.id, "bad")),
          provisioning.provisionInternet(pppoeRequest(template.id, "good"))
        ])
        const [badWf, goodWf] = [yield* finish(bad!), yield* finish(good!)]
        yield* sql.unsafe(`DROP TRIGGER reject_bad_radreply ON radreply`)

        expect(goodWf.status).toBe("SUCCEEDED")
        expect(badWf.status).toBe("COMPENSATED")
        expect(badWf.steps.map((s) => s.status)).toEqual(["COMPENSATED", "FAILED", "SKIPPED", "SKIPPED", "SKIPPED"])
        expect(badWf.lastError).toContain("radreply rejected")
        const service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(bad!.service.id))
        expect(service.status).toBe("FAILED")
        // The radcheck row written before the failing radreply insert was rolled back with it.
        expect(yield* radiusRowCounts("userbad@isp.net")).toEqual({ check: 0, reply: 0, groups: 0 })
        const rows = routerRows(router, bad!.service.id)
        expect([rows.secrets, rows.queues, rows.addressList].flat()).toEqual([])
        expect(yield* (yield* IpAllocator).findByService(bad!.service.id)).toEqual([])
        yield* expectNoDrift(bad!.service.id)
        yield* expectNoDrift(good!.service.id)
      }), 60_000)
  })
})
