/**
 * 200 concurrent `provisionInternet` calls with 4 workers on real PostgreSQL, the RouterOS test
 * server and SQL RADIUS rows: 200 ACTIVE services, 200 distinct IPs, 200 RADIUS users, one set of
 * router objects each; repeated idempotency keys create nothing new; the Reconciler finds no drift.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { FilterDict, Reconciler, ServiceProvisioning, Worker, WorkflowRepository } from "@isp-framework/core"
import { Effect, Option } from "effect"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import { pppoeRequest, realPostgres, setupPlan, stack } from "./support.js"

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
  })
})
