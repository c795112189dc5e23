/**
 * 200 concurrent `provisionInternet` calls with 4 workers on real PostgreSQL, the RouterOS test
 * server and SQL RADIUS rows: 200 ACTIVE services, 200 distinct IPs, 200 RADIUS users, one set of
 * router objects each; repeated idempotency keys create nothing new; the Reconciler finds no drift.
 * And the workflows of one service run one at a time, in request order, whichever worker claims them.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { FilterDict, Reconciler, ServiceProvisioning, Worker, WorkflowEngine, WorkflowRepository } from "@isp-framework/core"
import { Effect, Option } from "effect"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import { expectNoDrift, finish, pppoeRequest, radiusRowCounts, realPostgres, routerRows, setupPlan, stack } from "./support.js"

const N = 200

describe.skipIf(!realPostgres)("provisioning under concurrency (real PostgreSQL)", () => {
  layer(stack(), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect(`${N} concurrent provisionInternet calls + 4 workers`, () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { template } = yield* setupPlan({ cidr: "10.60.0.0/23" })
        const provisioning = yield* ServiceProvisioning
        const repo = yield* WorkflowRepository
        const router = yield* RouterOsTestServerTag
        yield* Worker.startMany(4, { pollInterval: "20 millis", batchSize: 10, prefix: "conc" })
        const request = (i: number) => provisioning.provisionInternet(pppoeRequest(template.id, `c${i}`), { idempotencyKey: `conc-${i}` })

        const started = yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), request, { concurrency: "unbounded" })
        expect(started.filter((s) => s.created)).toHaveLength(N)
        // The same keys again, concurrently with the workers and with each other: nothing new.
        const again = yield* Effect.forEach(Array.from({ length: N }, (_, i) => i % 50), request, { concurrency: "unbounded" })
        expect(again.filter((s) => s.created)).toEqual([])
        expect(again.every((s, j) => s.workflow.id === started[j % 50]!.workflow.id && s.service.id === started[j % 50]!.service.id)).toBe(true)

        for (;;) {
          const [row] = yield* sql<{ open: number; bad: number }>`
            SELECT count(*) FILTER (WHERE status IN ('PENDING', 'RUNNING'))::int AS open,
                   count(*) FILTER (WHERE status NOT IN ('PENDING', 'RUNNING', 'SUCCEEDED'))::int AS bad
            FROM provisioning_workflows`
          expect(row!.bad).toBe(0)
          if (row!.open === 0) break
          yield* Effect.sleep("50 millis")
        }
        const wfs = yield* Effect.forEach(started, (s) => Effect.map(repo.findById(s.workflow.id), Option.getOrThrow))
        expect(wfs.every((w) => w.status === "SUCCEEDED")).toBe(true)

        const [counts] = yield* sql<{ services: number; active: number; workflows: number; ips: number; distinctIps: number; users: number }>`
          SELECT (SELECT count(*)::int FROM customer_services) AS services,
                 (SELECT count(*)::int FROM customer_services WHERE status = 'ACTIVE') AS active,
                 (SELECT count(*)::int FROM provisioning_workflows) AS workflows,
                 (SELECT count(*)::int FROM ip_assignments WHERE released_at IS NULL) AS ips,
                 (SELECT count(DISTINCT address)::int FROM ip_assignments WHERE released_at IS NULL) AS distinct_ips,
                 (SELECT count(DISTINCT username)::int FROM radcheck WHERE attribute = 'Cleartext-Password') AS users`
        expect(counts).toEqual({ services: N, active: N, workflows: N, ips: N, distinctIps: N, users: N })
        const [dupes] = yield* sql<{ check: number; reply: number }>`
          SELECT (SELECT count(*)::int FROM (SELECT username, attribute FROM radcheck GROUP BY 1, 2 HAVING count(*) > 1) d) AS check,
                 (SELECT count(*)::int FROM (SELECT username, attribute FROM radreply GROUP BY 1, 2 HAVING count(*) > 1) d) AS reply`
        expect(dupes).toEqual({ check: 0, reply: 0 })

        const secrets = router.table("/ppp/secret")
        const queues = router.table("/queue/simple")
        expect(secrets).toHaveLength(N)
        expect(queues).toHaveLength(N)
        expect(new Set(secrets.map((s) => s.comment)).size).toBe(N)
        expect(new Set(queues.map((q) => q.comment)).size).toBe(N)
        expect(new Set(queues.map((q) => q.target)).size).toBe(N)
        expect(router.table("/ip/firewall/address-list")).toHaveLength(0)

        const summary = yield* (yield* Reconciler.Reconciler).reconcileAll(
          yield* FilterDict.parse(FilterDict.ServiceFilterSpec, {}),
          { pageSize: 64 }
        )
        expect(summary.checked).toBe(N)
        expect(summary.failures).toEqual([])
        expect(summary.drifted).toEqual([])
      }).pipe(Effect.scoped), 120_000)

    it.effect("4 workers never run two workflows of one service at once, and run them in request order", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { faster, template } = yield* setupPlan({ cidr: "10.61.0.0/24" })
        const provisioning = yield* ServiceProvisioning
        const engine = yield* WorkflowEngine
        const router = yield* RouterOsTestServerTag
        const activation = yield* provisioning.provisionInternet(pppoeRequest(template.id, "order"))
        const id = activation.service.id
        expect((yield* finish(activation)).status).toBe("SUCCEEDED")
        // Four workflows of one service queued before any worker runs; each could go to another worker.
        const requests = [
          yield* provisioning.suspend(id, { reason: "NON_PAYMENT", suspensionType: "FULL" }),
          yield* provisioning.resume(id),
          yield* provisioning.changePlan(id, faster.id),
          yield* provisioning.terminate(id)
        ]
        const ids = requests.map((r) => r.workflow.id)
        const workers = yield* Worker.startMany(4, { pollInterval: "5 millis", batchSize: 4, prefix: "order" })
        const done = yield* engine.drain(ids, { pollInterval: "20 millis" })
        yield* Effect.forEach(workers, (w) => w.stop)
        expect(done.map((w) => [w.kind, w.status])).toEqual([
          ["SUSPEND", "SUCCEEDED"],
          ["RESUME", "SUCCEEDED"],
          ["CHANGE_PLAN", "SUCCEEDED"],
          ["TERMINATE", "SUCCEEDED"]
        ])
        // Serial and in order: each workflow's first step started after the one before it finished.
        for (let i = 1; i < done.length; i++) {
          expect(done[i]!.steps[0]!.startedAt!.epochMillis).toBeGreaterThanOrEqual(done[i - 1]!.finishedAt!.epochMillis)
        }
        // The last request wins: nothing of the service is left on the router, in RADIUS or in the pool.
        const rows = routerRows(router, id)
        expect([rows.secrets, rows.queues, rows.addressList, rows.leases].map((r) => r.length)).toEqual([0, 0, 0, 0])
        expect(yield* radiusRowCounts("userorder@isp.net")).toEqual({ check: 0, reply: 0, groups: 0 })
        const [live] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM ip_assignments WHERE service_id = ${id} AND released_at IS NULL`
        expect(live!.n).toBe(0)
        yield* expectNoDrift(id)
      }).pipe(Effect.scoped), 60_000)
  })
})
