import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Ref } from "effect"
import type { ServiceId } from "../../src/domain/Ids.js"
import type { ProvisioningWorkflow } from "../../src/domain/Workflow.js"
import { parse } from "../../src/filters/Parse.js"
import { AlertFilterSpec } from "../../src/filters/specs/AlertFilterSpec.js"
import { ServiceFilterSpec } from "../../src/filters/specs/ServiceFilterSpec.js"
import { Nak, NoResponse, SimulatedNas } from "../../src/memory/SimulatedNas.js"
import { SimulatedRadius } from "../../src/memory/SimulatedRadius.js"
import { SimulatedRouter } from "../../src/memory/SimulatedRouter.js"
import { AlertRepository } from "../../src/ports/AlertRepository.js"
import { IpAllocator } from "../../src/ports/IpAllocator.js"
import { ServiceRepository } from "../../src/ports/ServiceRepository.js"
import { WorkflowRepository } from "../../src/ports/WorkflowRepository.js"
import { Reconciler } from "../../src/services/Reconciler.js"
import { ServiceProvisioning } from "../../src/services/ServiceProvisioning.js"
import { WorkflowEngine } from "../../src/workflows/Engine.js"
import * as Worker from "../../src/workflows/Worker.js"
import { BillingLog, pppoeRequest, setupPlan, testLayer } from "./fixtures.js"

const reply = (rows: ReadonlyArray<{ attribute: string; value: string }> | undefined, attribute: string) =>
  rows?.find((r) => r.attribute === attribute)?.value ?? null

/** Provisions one PPPoE service and runs its workflow to the end. */
const activated = (n: number | string = 1) =>
  Effect.gen(function*() {
    const { template, faster, pool } = yield* setupPlan()
    const provisioning = yield* ServiceProvisioning
    const engine = yield* WorkflowEngine
    const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, n))
    const [wf] = yield* engine.drain([started.workflow.id])
    const service = Option.getOrThrow(yield* (yield* ServiceRepository).findById(started.service.id))
    return { service, workflow: wf!, template, faster, pool }
  })

const run = <A, E, R>(eff: Effect.Effect<A, E, R>) => eff.pipe(Effect.provide(testLayer()))

const expectNoDrift = (serviceId: ServiceId) =>
  Effect.gen(function*() {
    const report = yield* (yield* Reconciler).check(serviceId)
    expect(report.skipped).toBeNull()
    expect(report.drift).toEqual([])
  })

const finish = (wf: { readonly workflow: ProvisioningWorkflow }) =>
  Effect.flatMap(WorkflowEngine, (e) => e.drain([wf.workflow.id])).pipe(Effect.map((ws) => ws[0]!))

describe("ServiceProvisioning + WorkflowEngine", () => {
  it.live("ACTIVATE: IP, RADIUS user, router objects, ACTIVE, billing started, no drift", () =>
    run(Effect.gen(function*() {
      const { service, workflow } = yield* activated()
      expect(workflow.status).toBe("SUCCEEDED")
      expect(workflow.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
        ["allocate_ip", "SUCCEEDED", 1],
        ["radius_user", "SUCCEEDED", 1],
        ["router_config", "SUCCEEDED", 1],
        ["activate", "SUCCEEDED", 1],
        ["billing", "SUCCEEDED", 1]
      ])
      expect(service.status).toBe("ACTIVE")
      const ip = (workflow.steps[0]!.output as { ipv4: string }).ipv4
      expect(ip).toMatch(/^10\.20\.0\.\d+$/)

      const users = yield* (yield* SimulatedRadius).users
      const user = users.get("user1@isp")!
      expect(reply(user.check, "Cleartext-Password")).toBe("secret-1")
      expect(reply(user.check, "Auth-Type")).toBeNull()
      expect(reply(user.reply, "Framed-IP-Address")).toBe(ip)
      expect(reply(user.reply, "Mikrotik-Rate-Limit")).toBe("2000k/10000k 3000k/15000k 1500k/8000k 16/16")
      expect(user.groups).toEqual([])

      const objects = yield* (yield* SimulatedRouter).objects("bng-1")
      expect(objects.pppSecrets).toHaveLength(1)
      expect(objects.pppSecrets[0]).toMatchObject({ name: "user1@isp", "remote-address": ip, comment: service.id })
      expect(objects.queues).toHaveLength(1)
      expect(objects.queues[0]).toMatchObject({ target: `${ip}/32`, "max-limit": "2000k/10000k" })
      expect(objects.addressListEntries).toHaveLength(0)

      expect((yield* BillingLog).calls).toEqual([{ hook: "onActivated", serviceId: service.id }])
      yield* expectNoDrift(service.id)
    })))

  it.live("SUSPEND FULL → walled garden + CoA; RESUME restores; no drift after each", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const provisioning = yield* ServiceProvisioning
      const radius = yield* SimulatedRadius
      const router = yield* SimulatedRouter
      const nas = yield* SimulatedNas

      const s = yield* provisioning.suspend(service.id, { reason: "NON_PAYMENT", suspensionType: "FULL" })
      expect(s.service.status).toBe("SUSPENDED") // the status is the desired state, set at once
      expect((yield* finish(s)).status).toBe("SUCCEEDED")
      expect((yield* radius.users).get("user1@isp")!.groups).toEqual(["suspended"])
      const suspended = yield* router.objects("bng-1")
      expect(suspended.addressListEntries).toHaveLength(1)
      expect(suspended.addressListEntries[0]).toMatchObject({ list: "suspended", comment: service.id })
      const coa = (yield* nas.requests).filter((r) => r._tag === "CoA")
      expect(coa).toHaveLength(1)
      expect(coa[0]).toMatchObject({ addressList: "suspended", target: { nasId: "bng-1", username: "user1@isp" } })
      yield* expectNoDrift(service.id)

      const r = yield* provisioning.resume(service.id)
      expect((yield* finish(r)).status).toBe("SUCCEEDED")
      expect((yield* radius.users).get("user1@isp")!.groups).toEqual([])
      expect((yield* router.objects("bng-1")).addressListEntries).toHaveLength(0)
      expect(reply((yield* radius.users).get("user1@isp")!.reply, "Mikrotik-Rate-Limit")).toBe(
        "2000k/10000k 3000k/15000k 1500k/8000k 16/16"
      )
      expect((yield* nas.requests).filter((x) => x._tag === "CoA")).toHaveLength(2)
      expect((yield* BillingLog).calls.map((c) => c.hook)).toEqual(["onActivated", "onSuspended", "onResumed"])
      yield* expectNoDrift(service.id)
    })))

  it.live("SUSPEND SPEED_LIMIT shapes RADIUS rate and queue; CHANGE_SPEED and CHANGE_PLAN reach RADIUS, router and session", () =>
    run(Effect.gen(function*() {
      const { service, faster } = yield* activated()
      const provisioning = yield* ServiceProvisioning
      const radius = yield* SimulatedRadius
      const router = yield* SimulatedRouter
      const rate = Effect.map(radius.users, (u) => reply(u.get("user1@isp")!.reply, "Mikrotik-Rate-Limit"))
      const queue = Effect.map(router.objects("bng-1"), (o) => o.queues.map((q) => q["max-limit"]))

      yield* finish(yield* provisioning.suspend(service.id, { reason: "QUOTA_EXHAUSTED", suspensionType: "SPEED_LIMIT" }))
      expect(yield* rate).toBe("512k/512k")
      expect(yield* queue).toEqual(["512k/512k"])
      expect((yield* radius.users).get("user1@isp")!.groups).toEqual([])
      expect((yield* router.objects("bng-1")).addressListEntries).toHaveLength(0)
      yield* expectNoDrift(service.id)
      yield* finish(yield* provisioning.resume(service.id))

      const cs = yield* provisioning.changeSpeed(service.id, { downloadKbps: 4_000, uploadKbps: 1_000 })
      expect((yield* finish(cs)).steps.map((s) => s.name)).toEqual(["radius_profile", "router_config", "live_session"])
      expect(yield* rate).toBe("1000k/4000k")
      expect(yield* queue).toEqual(["1000k/4000k"])
      yield* expectNoDrift(service.id)

      const cp = yield* provisioning.changePlan(service.id, faster.id)
      expect((yield* finish(cp)).status).toBe("SUCCEEDED")
      expect(yield* rate).toBe("10000k/50000k")
      expect(yield* queue).toEqual(["10000k/50000k"])
      const lastCoa = (yield* (yield* SimulatedNas).requests).filter((r) => r._tag === "CoA").at(-1)!
      expect(lastCoa._tag === "CoA" && lastCoa.rate).toEqual({ downloadKbps: 50_000, uploadKbps: 10_000 })
      yield* expectNoDrift(service.id)
    })))

  it.live("TERMINATE: RADIUS user removed, router objects removed, Disconnect sent, IP released; no drift", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const t = yield* (yield* ServiceProvisioning).terminate(service.id)
      expect(t.service.status).toBe("TERMINATED")
      const wf = yield* finish(t)
      expect(wf.status).toBe("SUCCEEDED")
      expect(wf.steps.map((s) => s.name)).toEqual(["radius_disable", "router_remove", "disconnect", "release_ip", "billing"])
      expect((yield* (yield* SimulatedRadius).users).has("user1@isp")).toBe(false)
      const objects = yield* (yield* SimulatedRouter).objects("bng-1")
      expect([objects.pppSecrets, objects.queues, objects.addressListEntries, objects.dhcpLeases].flat()).toEqual([])
      expect((yield* (yield* SimulatedNas).requests).map((r) => r._tag)).toEqual(["Disconnect"])
      expect(yield* (yield* IpAllocator).findByService(service.id)).toEqual([])
      expect((yield* BillingLog).calls.map((c) => c.hook)).toEqual(["onActivated", "onTerminated"])
      yield* expectNoDrift(service.id)
    })))

  it.live("an invalid transition is refused at once and starts no workflow", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const provisioning = yield* ServiceProvisioning
      const error = yield* Effect.flip(provisioning.resume(service.id))
      expect(error._tag).toBe("InvalidTransition")
      expect(yield* provisioning.workflowsFor(service.id)).toHaveLength(1)
    })))
})

describe("idempotency keys", () => {
  it.live("the same key returns the same service and workflow; another request with it is a Conflict", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const a = yield* provisioning.provisionInternet(pppoeRequest(template.id, 7), { idempotencyKey: "order-7" })
      const b = yield* provisioning.provisionInternet(pppoeRequest(template.id, 7), { idempotencyKey: "order-7" })
      expect(a.created).toBe(true)
      expect(b.created).toBe(false)
      expect(b.service.id).toBe(a.service.id)
      expect(b.workflow.id).toBe(a.workflow.id)
      yield* (yield* WorkflowEngine).drain([a.workflow.id])

      const s1 = yield* provisioning.suspend(a.service.id, { reason: "ABUSE", suspensionType: "FULL" }, { idempotencyKey: "susp-1" })
      const s2 = yield* provisioning.suspend(a.service.id, { reason: "ABUSE", suspensionType: "FULL" }, { idempotencyKey: "susp-1" })
      expect(s2.workflow.id).toBe(s1.workflow.id)
      expect(s2.created).toBe(false)
      const clash = yield* Effect.flip(provisioning.resume(a.service.id, { idempotencyKey: "susp-1" }))
      expect(clash._tag).toBe("Conflict")
      expect(yield* provisioning.workflowsFor(a.service.id)).toHaveLength(2)
    })))

  it.live("20 concurrent requests with one key create one service and one workflow", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, () => 0),
        () => provisioning.provisionInternet(pppoeRequest(template.id, 42), { idempotencyKey: "order-42" }),
        { concurrency: "unbounded" }
      )
      expect(new Set(results.map((r) => r.service.id)).size).toBe(1)
      expect(new Set(results.map((r) => r.workflow.id)).size).toBe(1)
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(yield* (yield* ServiceRepository).countByCustomer(results[0]!.service.customerId)).toBe(1)
    })))
})

describe("failures", () => {
  it.live("a failing step is retried with backoff and then succeeds", () =>
    run(Effect.gen(function*() {
      const radius = yield* SimulatedRadius
      yield* radius.failNext(2, "upsertUser")
      const { workflow, service } = yield* activated()
      expect(workflow.status).toBe("SUCCEEDED")
      const step = workflow.steps.find((s) => s.name === "radius_user")!
      expect(step.attempts).toBe(3)
      expect(step.lastError).toBeNull()
      expect(service.status).toBe("ACTIVE")
      yield* expectNoDrift(service.id)
    })))

  it.live("a step that hangs times out and is retried", () =>
    run(Effect.gen(function*() {
      yield* (yield* SimulatedRouter).hangNext(1, "ensureService")
      const { workflow } = yield* activated()
      expect(workflow.status).toBe("SUCCEEDED")
      expect(workflow.steps.find((s) => s.name === "router_config")!.attempts).toBe(2)
    })))

  it.live("attempts exhausted → compensated: no orphan IP, RADIUS user or router object; FAILED; alert", () =>
    run(Effect.gen(function*() {
      const router = yield* SimulatedRouter
      yield* router.failNext(3, "ensureService")
      const { workflow, service } = yield* activated()
      expect(workflow.status).toBe("COMPENSATED")
      expect(workflow.steps.map((s) => s.status)).toEqual(["COMPENSATED", "COMPENSATED", "FAILED", "SKIPPED", "SKIPPED"])
      expect(workflow.steps[2]!.attempts).toBe(3)
      expect(workflow.lastError).toContain("injected router failure")
      expect(service.status).toBe("FAILED")
      expect((yield* (yield* SimulatedRadius).users).size).toBe(0)
      const objects = yield* router.objects("bng-1")
      expect([objects.pppSecrets, objects.queues, objects.addressListEntries].flat()).toEqual([])
      expect(yield* (yield* IpAllocator).findByService(service.id)).toEqual([])
      const alerts = yield* (yield* AlertRepository).search(yield* parse(AlertFilterSpec, { service_id: service.id }))
      expect(alerts.items.map((a) => [a.type, a.status])).toEqual([["PROVISIONING_FAILED", "OPEN"]])
      expect((yield* BillingLog).calls).toEqual([])
      yield* expectNoDrift(service.id)
    })))

  it.live("a non-activation that runs out of attempts needs a human: REQUIRES_MANUAL, status kept, alert; repair fixes it", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      yield* (yield* SimulatedRadius).failNext(3, "upsertUser")
      const s = yield* (yield* ServiceProvisioning).suspend(service.id, { reason: "NON_PAYMENT", suspensionType: "FULL" })
      const wf = yield* finish(s)
      expect(wf.status).toBe("REQUIRES_MANUAL")
      const now = Option.getOrThrow(yield* (yield* ServiceRepository).findById(service.id))
      expect(now.status).toBe("SUSPENDED")
      const alerts = yield* (yield* AlertRepository).search(yield* parse(AlertFilterSpec, { service_id: service.id }))
      expect(alerts.items.map((a) => a.type)).toEqual(["PROVISIONING_FAILED"])
      const reconciler = yield* Reconciler
      const before = yield* reconciler.check(service.id)
      expect(before.drift.map((d) => d._tag)).toContain("RadiusGroupMismatch")
      const repaired = yield* reconciler.repair(service.id)
      expect(repaired.after.drift).toEqual([])
    })))

  it.live("CoA NAK → Disconnect-Request; no CoA answer → Disconnect-Request", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const nas = yield* SimulatedNas
      const provisioning = yield* ServiceProvisioning
      yield* nas.respondWith("CoA", Nak(503, "Session-Context-Not-Found"))
      const wf = yield* finish(yield* provisioning.suspend(service.id, { reason: "NON_PAYMENT", suspensionType: "FULL" }))
      expect(wf.steps.find((s) => s.name === "live_session")!.output).toEqual({
        coa: { result: "Nak", errorCause: 503, errorCauseName: "Session-Context-Not-Found" },
        disconnect: { result: "Ack" }
      })
      expect((yield* nas.requests).map((r) => r._tag)).toEqual(["CoA", "Disconnect"])

      yield* nas.respondWith("CoA", NoResponse)
      yield* finish(yield* provisioning.resume(service.id))
      yield* nas.respondWith("CoA", { _tag: "Ack" })
      yield* nas.hangNext(1, "CoA")
      const wf3 = yield* finish(yield* provisioning.changeSpeed(service.id, { downloadKbps: 1000, uploadKbps: 500 }))
      expect(wf3.status).toBe("SUCCEEDED")
      expect((yield* nas.requests).map((r) => r._tag)).toEqual(["CoA", "Disconnect", "CoA", "Disconnect", "Disconnect"])
      yield* expectNoDrift(service.id)
    })))
})

describe("workers and leases", () => {
  it.live("a worker that dies between two steps loses nothing: another resumes after the lease", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const engine = yield* WorkflowEngine
      const repo = yield* WorkflowRepository
      const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, 3))
      const [claimed] = yield* repo.claimDue({ workerId: "A", leaseMillis: 1_000, limit: 1 })
      // Worker A dies right after its second step was saved (with the third started), before the third runs.
      const checks = yield* Ref.make(0)
      const dieBeforeThird = Effect.flatMap(Ref.updateAndGet(checks, (n) => n + 1), (n) => (n === 3 ? Effect.interrupt : Effect.succeed(false)))
      const exit = yield* Effect.exit(engine.runClaimed(claimed!, "A", dieBeforeThird))
      expect(exit._tag).toBe("Failure")

      const stored = Option.getOrThrow(yield* repo.findById(started.workflow.id))
      // The second step's success and the third's start are one write: the third is RUNNING, not yet run.
      expect(stored.steps.map((s) => s.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "RUNNING", "PENDING", "PENDING"])
      expect(stored.lockedBy).toBe("A")
      // The lease is still live: nobody else can take it yet.
      expect(yield* engine.tick({ workerId: "B" })).toBe(0)
      yield* Effect.sleep("1100 millis")
      expect(yield* engine.tick({ workerId: "B" })).toBe(1)
      const done = Option.getOrThrow(yield* repo.findById(started.workflow.id))
      expect(done.status).toBe("SUCCEEDED")
      // Only the step that was started when the worker died runs again.
      expect(done.steps.map((s) => s.attempts)).toEqual([1, 1, 2, 1, 1])
      expect(yield* (yield* IpAllocator).findByService(started.service.id)).toHaveLength(1)
      yield* expectNoDrift(started.service.id)
    })))

  it.live("a worker interrupted mid-step: the step is re-run by another worker after the lease", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const engine = yield* WorkflowEngine
      const repo = yield* WorkflowRepository
      yield* (yield* SimulatedRadius).hangNext(1, "upsertUser")
      const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, 4))
      const fiber = yield* Effect.fork(engine.tick({ workerId: "A" }))
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(fiber)
      const stored = Option.getOrThrow(yield* repo.findById(started.workflow.id))
      expect(stored.steps[1]!.status).toBe("RUNNING")
      expect(stored.lockedBy).toBe("A")
      yield* Effect.sleep("1000 millis")
      yield* engine.tick({ workerId: "B" })
      const done = Option.getOrThrow(yield* repo.findById(started.workflow.id))
      expect(done.status).toBe("SUCCEEDED")
      expect(done.steps[1]!.attempts).toBe(2)
      expect((yield* (yield* SimulatedRadius).users).size).toBe(1)
      yield* expectNoDrift(started.service.id)
    })))

  it.live("graceful stop finishes the current step and gives the lease back", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const provisioning = yield* ServiceProvisioning
      const repo = yield* WorkflowRepository
      yield* (yield* SimulatedRouter).hangNext(1, "ensureService") // router_config will time out (400 ms)
      const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, 5))
      const worker = yield* Worker.start({ workerId: "W", pollInterval: "5 millis" })
      yield* Effect.sleep("100 millis")
      yield* worker.stop
      const stored = Option.getOrThrow(yield* repo.findById(started.workflow.id))
      expect(stored.lockedBy).toBeNull()
      expect(stored.status).toBe("RUNNING")
      // Another engine pass completes it.
      const [done] = yield* (yield* WorkflowEngine).drain([started.workflow.id])
      expect(done!.status).toBe("SUCCEEDED")
    }).pipe(Effect.scoped)))

  it.live("4 workers never run two workflows of one service at once, and run them in request order", () =>
    run(Effect.gen(function*() {
      const { faster, service } = yield* activated("order")
      const provisioning = yield* ServiceProvisioning
      const repo = yield* WorkflowRepository
      // Four requests queued back to back before any worker runs: each could be claimed by a different worker.
      const requests = [
        yield* provisioning.suspend(service.id, { reason: "NON_PAYMENT", suspensionType: "FULL" }),
        yield* provisioning.resume(service.id),
        yield* provisioning.changePlan(service.id, faster.id),
        yield* provisioning.terminate(service.id)
      ]
      const workers = yield* Worker.startMany(4, { pollInterval: "2 millis", batchSize: 4 })
      const ids = requests.map((r) => r.workflow.id)
      const done = yield* (yield* WorkflowEngine).drain(ids, { pollInterval: "5 millis" })
      yield* Effect.forEach(workers, (w) => w.stop)
      expect(done.map((w) => [w.kind, w.status])).toEqual([
        ["SUSPEND", "SUCCEEDED"],
        ["RESUME", "SUCCEEDED"],
        ["CHANGE_PLAN", "SUCCEEDED"],
        ["TERMINATE", "SUCCEEDED"]
      ])
      // Serial: each workflow's first step started after the one before it had finished.
      const all = (yield* repo.listForService(service.id)).filter((w) => ids.includes(w.id))
      expect(all.map((w) => w.id)).toEqual(ids)
      for (let i = 1; i < all.length; i++) {
        expect(all[i]!.steps[0]!.startedAt!.epochMillis).toBeGreaterThanOrEqual(all[i - 1]!.finishedAt!.epochMillis)
      }
      expect((yield* BillingLog).calls.map((c) => c.hook)).toEqual(["onActivated", "onSuspended", "onResumed", "onTerminated"])
      // The last request wins on the network: nothing left of the service.
      expect((yield* (yield* SimulatedRadius).users).has("userorder@isp")).toBe(false)
      const objects = yield* (yield* SimulatedRouter).objects("bng-1")
      expect([objects.pppSecrets, objects.queues, objects.addressListEntries].map((o) => o.length)).toEqual([0, 0, 0])
      expect(yield* (yield* IpAllocator).findByService(service.id)).toHaveLength(0)
      yield* expectNoDrift(service.id)
    }).pipe(Effect.scoped)))

  it.live("200 concurrent provisionInternet calls + 4 workers → 200 ACTIVE, distinct IPs, one object set each", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan({ cidr: "10.30.0.0/23" })
      const provisioning = yield* ServiceProvisioning
      const repo = yield* WorkflowRepository
      const workers = yield* Worker.startMany(4, { pollInterval: "5 millis", batchSize: 20 })
      const started = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) => provisioning.provisionInternet(pppoeRequest(template.id, `c${i}`), { idempotencyKey: `k-${i}` }),
        { concurrency: "unbounded" }
      )
      // Repeated keys create nothing new.
      yield* Effect.forEach(started.slice(0, 50), (_, i) =>
        provisioning.provisionInternet(pppoeRequest(template.id, `c${i}`), { idempotencyKey: `k-${i}` }), { concurrency: 10 })
      for (;;) {
        const wfs = yield* Effect.forEach(started, (s) => Effect.map(repo.findById(s.workflow.id), Option.getOrThrow))
        if (wfs.every((w) => w.status === "SUCCEEDED")) break
        expect(wfs.filter((w) => w.status !== "SUCCEEDED" && w.status !== "RUNNING" && w.status !== "PENDING")).toEqual([])
        yield* Effect.sleep("20 millis")
      }
      yield* Effect.forEach(workers, (w) => w.stop)
      const services = yield* ServiceRepository
      const all = yield* Effect.forEach(started, (s) => Effect.map(services.findById(s.service.id), Option.getOrThrow))
      expect(all.filter((s) => s.status === "ACTIVE")).toHaveLength(200)
      const allocator = yield* IpAllocator
      const ips = yield* Effect.forEach(started, (s) => allocator.findByService(s.service.id))
      expect(ips.every((a) => a.length === 1)).toBe(true)
      expect(new Set(ips.map((a) => a[0]!.address)).size).toBe(200)
      expect((yield* (yield* SimulatedRadius).users).size).toBe(200)
      const objects = yield* (yield* SimulatedRouter).objects("bng-1")
      expect(objects.pppSecrets).toHaveLength(200)
      expect(objects.queues).toHaveLength(200)
      expect(new Set(objects.queues.map((q) => q.comment)).size).toBe(200)
      const summary = yield* (yield* Reconciler).reconcileAll(yield* parse(ServiceFilterSpec, {}), { pageSize: 37 })
      expect(summary.checked).toBe(200)
      expect(summary.drifted).toEqual([])
    }).pipe(Effect.scoped)), { timeout: 60_000 })
})

describe("Reconciler", () => {
  it.live("reports injected drift as typed values and repairs it through the same steps", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const radius = yield* SimulatedRadius
      const router = yield* SimulatedRouter
      const user = (yield* radius.users).get("user1@isp")!
      yield* radius.setUser({
        ...user,
        reply: user.reply.map((r) => (r.attribute === "Mikrotik-Rate-Limit" ? { ...r, value: "1k/1k" } : r))
      })
      yield* router.removeObjects("bng-1", "queues", () => true)
      yield* router.addObject("bng-1", "pppSecrets", { name: "user1@isp", password: "x", comment: service.id })

      const reconciler = yield* Reconciler
      const report = yield* reconciler.check(service.id)
      expect(report.drift).toEqual(expect.arrayContaining([
        {
          _tag: "RadiusAttributeMismatch",
          username: "user1@isp",
          table: "reply",
          attribute: "Mikrotik-Rate-Limit",
          expected: "2000k/10000k 3000k/15000k 1500k/8000k 16/16",
          actual: "1k/1k"
        },
        expect.objectContaining({ _tag: "RouterObjectMissing", routerId: "bng-1", table: "queues" }),
        expect.objectContaining({ _tag: "RouterObjectUnexpected", routerId: "bng-1", table: "pppSecrets" })
      ]))
      expect(report.drift).toHaveLength(3)
      const { after } = yield* reconciler.repair(service.id)
      expect(after.drift).toEqual([])
      const objects = yield* router.objects("bng-1")
      expect(objects.pppSecrets).toHaveLength(1)
      expect(objects.queues).toHaveLength(1)
    })))

  it.live("leftovers of a terminated service are reported and removed", () =>
    run(Effect.gen(function*() {
      const { service } = yield* activated()
      const user = (yield* (yield* SimulatedRadius).users).get("user1@isp")!
      yield* finish(yield* (yield* ServiceProvisioning).terminate(service.id))
      yield* (yield* SimulatedRadius).setUser(user)
      yield* (yield* SimulatedRouter).addObject("bng-1", "queues", { name: service.serviceNumber, comment: service.id })
      const reconciler = yield* Reconciler
      const report = yield* reconciler.check(service.id)
      expect(report.drift.map((d) => d._tag).sort()).toEqual(["RadiusUserUnexpected", "RouterObjectUnexpected"])
      const { after } = yield* reconciler.repair(service.id)
      expect(after.drift).toEqual([])
      expect((yield* (yield* SimulatedRadius).users).size).toBe(0)
    })))

  it.live("a service with a workflow in progress is skipped", () =>
    run(Effect.gen(function*() {
      const { template } = yield* setupPlan()
      const started = yield* (yield* ServiceProvisioning).provisionInternet(pppoeRequest(template.id, 9))
      const report = yield* (yield* Reconciler).check(started.service.id)
      expect(report.skipped).toContain("ACTIVATE")
    })))
})
