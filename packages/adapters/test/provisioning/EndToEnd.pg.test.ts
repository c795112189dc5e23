/**
 * Provisioning against the real edges: PostgreSQL, a real FreeRADIUS reading the framework's rows
 * (queried with FreeRADIUS's own radclient), the RouterOS API test server driven by node-routeros,
 * and a UDP NAS answering CoA / Disconnect. Every step is re-run afterwards to prove it idempotent.
 */
import { describe, expect, layer } from "@effect/vitest"
import { IpAllocator, ServiceProvisioning, ServiceRepository } from "@isp-framework/core"
import { Effect, Option } from "effect"
import * as FreeRadius from "../support/FreeRadius.js"
import * as NasStub from "../support/NasStub.js"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import {
  expectNoDrift,
  finish,
  pppoeRequest,
  radiusRowCounts,
  realPostgres,
  rerunSteps,
  routerRows,
  setupPlan,
  stackWithFreeRadius
} from "./support.js"

const authenticate = (username: string, password: string) =>
  Effect.flatMap(FreeRadius.FreeRadiusServer, (server) =>
    server.radclient("auth", [["User-Name", username], ["User-Password", password]])).pipe(Effect.orDie)

describe.skipIf(!realPostgres)("provisioning end to end (PostgreSQL + FreeRADIUS + RouterOS + NAS)", () => {
  layer(stackWithFreeRadius(), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("activate → Access-Accept with the IP and rate; FULL suspend → suspended profile; resume; terminate → Access-Reject", () =>
      Effect.gen(function*() {
        const { template } = yield* setupPlan({ cidr: "10.40.0.0/24" })
        const provisioning = yield* ServiceProvisioning
        const router = yield* RouterOsTestServerTag
        const nas = yield* NasStub.NasStubService
        yield* nas.respondWith(NasStub.ack)

        // ACTIVATE
        const started = yield* provisioning.provisionInternet(pppoeRequest(template.id, "e2e"), { idempotencyKey: "e2e-1" })
        expect(started.service.status).toBe("PENDING")
        const activation = yield* finish(started)
        expect(activation.status).toBe("SUCCEEDED")
        const serviceId = started.service.id
        const [assignment] = yield* (yield* IpAllocator).findByService(serviceId)
        const ip = assignment!.address
        expect(ip).toMatch(/^10\.40\.0\.\d+$/)

        const accepted = yield* authenticate("usere2e@isp.net", "secret-e2e")
        expect(accepted.code).toBe("Access-Accept")
        expect(accepted.get("Framed-IP-Address")).toBe(ip)
        expect(accepted.get("Mikrotik-Rate-Limit")).toBe("2000k/10000k 3000k/15000k 1500k/8000k 16/16")
        expect((yield* authenticate("usere2e@isp.net", "wrong")).code).toBe("Access-Reject")

        const afterActivate = () => {
          const rows = routerRows(router, serviceId)
          expect(rows.secrets).toHaveLength(1)
          expect(rows.secrets[0]).toMatchObject({ name: "usere2e@isp.net", "remote-address": ip, service: "pppoe" })
          expect(rows.queues).toHaveLength(1)
          expect(rows.queues[0]).toMatchObject({ target: `${ip}/32`, "max-limit": "2000000/10000000" })
          expect(rows.addressList).toHaveLength(0)
        }
        afterActivate()
        yield* expectNoDrift(serviceId)
        yield* rerunSteps(activation)
        afterActivate()
        expect(yield* radiusRowCounts("usere2e@isp.net")).toEqual({ check: 1, reply: 2, groups: 0 })
        yield* expectNoDrift(serviceId)

        // SUSPEND (FULL): walled garden in RADIUS (group reply) and on the router; CoA to the live session.
        const suspension = yield* finish(yield* provisioning.suspend(serviceId, { reason: "NON_PAYMENT", suspensionType: "FULL" }))
        expect(suspension.status).toBe("SUCCEEDED")
        const afterSuspend = () => {
          const rows = routerRows(router, serviceId)
          expect(rows.secrets).toHaveLength(1)
          expect(rows.queues).toHaveLength(1)
          expect(rows.addressList).toHaveLength(1)
          expect(rows.addressList[0]).toMatchObject({ list: "suspended", address: ip })
        }
        afterSuspend()
        const suspended = yield* authenticate("usere2e@isp.net", "secret-e2e")
        expect(suspended.code).toBe("Access-Accept")
        expect(suspended.get("Mikrotik-Address-List")).toBe("suspended")
        expect(suspended.get("Mikrotik-Rate-Limit")).toBe("64k/64k")
        const coa = (yield* nas.requests).filter((r) => r.kind === "CoA")
        expect(coa).toHaveLength(1)
        expect(coa[0]!.attributes["User-Name"]).toBe("usere2e@isp.net")
        expect(coa[0]!.vendor["Mikrotik-Address-List"]).toBe("suspended")
        expect(coa[0]!.authentic).toBe(true)
        yield* expectNoDrift(serviceId)
        yield* rerunSteps(suspension)
        afterSuspend()
        expect(yield* radiusRowCounts("usere2e@isp.net")).toEqual({ check: 1, reply: 2, groups: 1 })
        yield* expectNoDrift(serviceId)

        // RESUME
        const resumption = yield* finish(yield* provisioning.resume(serviceId))
        expect(resumption.status).toBe("SUCCEEDED")
        yield* rerunSteps(resumption)
        afterActivate()
        const resumed = yield* authenticate("usere2e@isp.net", "secret-e2e")
        expect(resumed.get("Mikrotik-Address-List")).toBeUndefined()
        expect(resumed.get("Mikrotik-Rate-Limit")).toBe("2000k/10000k 3000k/15000k 1500k/8000k 16/16")
        yield* expectNoDrift(serviceId)

        // TERMINATE
        const termination = yield* finish(yield* provisioning.terminate(serviceId))
        expect(termination.status).toBe("SUCCEEDED")
        yield* rerunSteps(termination)
        expect((yield* authenticate("usere2e@isp.net", "secret-e2e")).code).toBe("Access-Reject")
        const gone = routerRows(router, serviceId)
        expect([gone.secrets, gone.queues, gone.addressList, gone.leases].flat()).toEqual([])
        expect(yield* radiusRowCounts("usere2e@isp.net")).toEqual({ check: 0, reply: 0, groups: 0 })
        expect(yield* (yield* IpAllocator).findByService(serviceId)).toEqual([])
        expect((yield* nas.requests).map((r) => r.kind)).toEqual(["CoA", "CoA", "CoA", "CoA", "Disconnect", "Disconnect"])
        const stored = Option.getOrThrow(yield* (yield* ServiceRepository).findById(serviceId))
        expect(stored.status).toBe("TERMINATED")
        yield* expectNoDrift(serviceId)
      }), 90_000)
  })
})
