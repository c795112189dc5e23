import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import * as fc from "fast-check"
import {
  type ServiceStatus,
  ServiceStatus as ServiceStatusSchema,
  SuspensionReason,
  SuspensionType
} from "@isp-framework/core"
import { Fixtures } from "@isp-framework/core/testing"
import * as Lifecycle from "../../src/lifecycle/Lifecycle.js"

const statuses = ServiceStatusSchema.literals
const t0 = DateTime.unsafeMake("2026-01-01T00:00:00Z")

const service = (status: ServiceStatus) =>
  Fixtures.makeService({
    status,
    suspensionReason: status === "SUSPENDED" ? "NON_PAYMENT" : null,
    suspensionType: status === "SUSPENDED" ? "FULL" : null,
    createdAt: t0,
    updatedAt: t0
  })

const sampleEvent = (tag: Lifecycle.EventTag): Lifecycle.LifecycleEvent => {
  switch (tag) {
    case "ProvisioningSucceeded":
    case "RetryProvisioning":
    case "Terminate":
    case "Expire":
      return { _tag: tag }
    case "ProvisioningFailed":
      return { _tag: tag, error: "router unreachable" }
    case "Suspend":
      return { _tag: tag, reason: "NON_PAYMENT", suspensionType: "SPEED_LIMIT", shapedKbps: 256 }
    case "Resume":
      return { _tag: tag, downloadKbps: 50_000, uploadKbps: 10_000 }
    case "ChangePlan":
      return {
        _tag: tag,
        templateId: "0190f3b1-0000-7000-8000-0000000000bb" as never,
        tariffId: "tariff-2" as never,
        downloadKbps: 100_000,
        uploadKbps: 20_000
      }
    case "ChangeSpeed":
      return { _tag: tag, downloadKbps: 2_000, uploadKbps: 1_000 }
  }
}

/** The whole table, written out by hand: status → event → next status, or "refused". */
const table: Record<ServiceStatus, Record<Lifecycle.EventTag, ServiceStatus | "refused">> = {
  PENDING: {
    ProvisioningSucceeded: "ACTIVE",
    ProvisioningFailed: "FAILED",
    RetryProvisioning: "refused",
    Suspend: "refused",
    Resume: "refused",
    Terminate: "TERMINATED",
    Expire: "refused",
    ChangePlan: "refused",
    ChangeSpeed: "refused"
  },
  ACTIVE: {
    ProvisioningSucceeded: "refused",
    ProvisioningFailed: "refused",
    RetryProvisioning: "refused",
    Suspend: "SUSPENDED",
    Resume: "refused",
    Terminate: "TERMINATED",
    Expire: "EXPIRED",
    ChangePlan: "ACTIVE",
    ChangeSpeed: "ACTIVE"
  },
  SUSPENDED: {
    ProvisioningSucceeded: "refused",
    ProvisioningFailed: "refused",
    RetryProvisioning: "refused",
    Suspend: "refused",
    Resume: "ACTIVE",
    Terminate: "TERMINATED",
    Expire: "refused",
    ChangePlan: "SUSPENDED",
    ChangeSpeed: "refused"
  },
  TERMINATED: {
    ProvisioningSucceeded: "refused",
    ProvisioningFailed: "refused",
    RetryProvisioning: "refused",
    Suspend: "refused",
    Resume: "refused",
    Terminate: "refused",
    Expire: "refused",
    ChangePlan: "refused",
    ChangeSpeed: "refused"
  },
  FAILED: {
    ProvisioningSucceeded: "refused",
    ProvisioningFailed: "refused",
    RetryProvisioning: "PENDING",
    Suspend: "refused",
    Resume: "refused",
    Terminate: "TERMINATED",
    Expire: "refused",
    ChangePlan: "refused",
    ChangeSpeed: "refused"
  },
  EXPIRED: {
    ProvisioningSucceeded: "refused",
    ProvisioningFailed: "refused",
    RetryProvisioning: "refused",
    Suspend: "refused",
    Resume: "refused",
    Terminate: "TERMINATED",
    Expire: "refused",
    ChangePlan: "refused",
    ChangeSpeed: "refused"
  }
}

describe("Lifecycle.transition: every (status, event) pair", () => {
  for (const status of statuses) {
    for (const tag of Lifecycle.eventTags) {
      const expected = table[status][tag]
      it(`${status} + ${tag} → ${expected}`, () => {
        const result = Lifecycle.transition(service(status), sampleEvent(tag), t0)
        if (expected === "refused") {
          expect(Either.isLeft(result)).toBe(true)
          const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
          expect(error._tag).toBe("InvalidTransition")
          expect(error.status).toBe(status)
          expect(error.event).toBe(tag)
          expect(error.message).toContain(status)
          expect(error.message).toContain(tag)
        } else {
          const ok = Either.getOrThrow(result)
          expect(ok.next.status).toBe(expected)
          expect(ok.next.version).toBe(2)
        }
      })
    }
  }
})

describe("Lifecycle effects and fields", () => {
  const now = DateTime.unsafeMake("2026-02-01T10:00:00Z")
  it("activation starts billing and stamps activatedAt", () => {
    const t = Either.getOrThrow(Lifecycle.transition(service("PENDING"), sampleEvent("ProvisioningSucceeded"), now))
    expect(t.effects).toEqual([{ _tag: "StartBilling" }])
    expect(t.next.activatedAt).toEqual(now)
  })
  it("suspension records reason and type, shapes SPEED_LIMIT and updates the live session", () => {
    const t = Either.getOrThrow(Lifecycle.transition(service("ACTIVE"), sampleEvent("Suspend"), now))
    expect(t.next.suspensionReason).toBe("NON_PAYMENT")
    expect(t.next.suspensionType).toBe("SPEED_LIMIT")
    expect(t.next.downloadSpeedKbps).toBe(256)
    expect(t.effects.map((e) => e._tag)).toEqual(["ApplySuspension", "UpdateLiveSession", "PauseBilling"])
  })
  it("resume clears the suspension and restores plan speeds", () => {
    const t = Either.getOrThrow(Lifecycle.transition(service("SUSPENDED"), sampleEvent("Resume"), now))
    expect(t.next.suspensionReason).toBeNull()
    expect(t.next.suspensionType).toBeNull()
    expect(t.next.downloadSpeedKbps).toBe(50_000)
    expect(t.effects.map((e) => e._tag)).toContain("LiftSuspension")
  })
  it("termination of a live service stops billing, disables RADIUS, releases the IP", () => {
    const t = Either.getOrThrow(Lifecycle.transition(service("ACTIVE"), sampleEvent("Terminate"), now))
    expect(t.effects.map((e) => e._tag)).toEqual([
      "StopBilling",
      "DisableRadiusUser",
      "RemoveRouterConfig",
      "DisconnectSession",
      "ReleaseIp"
    ])
    expect(t.next.terminatedAt).toEqual(now)
  })
  it("cancelling a PENDING service does not touch billing", () => {
    const t = Either.getOrThrow(Lifecycle.transition(service("PENDING"), sampleEvent("Terminate"), now))
    expect(t.effects.map((e) => e._tag)).not.toContain("StopBilling")
  })
  it("a plan change while suspended keeps the shaped speed", () => {
    const s = service("SUSPENDED")
    const t = Either.getOrThrow(Lifecycle.transition(s, sampleEvent("ChangePlan"), now))
    expect(t.next.downloadSpeedKbps).toBe(s.downloadSpeedKbps)
    expect(t.next.tariffId).toBe("tariff-2")
    expect(t.effects.map((e) => e._tag)).toEqual(["ChangeBillingPlan"])
  })
})

const arbEvent: fc.Arbitrary<Lifecycle.LifecycleEvent> = fc.oneof(
  fc.constantFrom(...Lifecycle.eventTags).map(sampleEvent),
  fc.record({
    _tag: fc.constant("Suspend" as const),
    reason: fc.constantFrom(...SuspensionReason.literals),
    suspensionType: fc.constantFrom(...SuspensionType.literals)
  })
)

describe("Lifecycle properties", () => {
  it("no event sequence leaves TERMINATED, and version counts the accepted events", () => {
    fc.assert(
      fc.property(fc.constantFrom(...statuses), fc.array(arbEvent, { maxLength: 40 }), (start, events) => {
        let s = service(start)
        let terminated = start === "TERMINATED"
        let accepted = 0
        for (const e of events) {
          const r = Lifecycle.transition(s, e, t0)
          if (Either.isRight(r)) {
            expect(terminated).toBe(false)
            s = r.right.next
            accepted++
          }
          if (s.status === "TERMINATED") terminated = true
          expect(terminated ? s.status === "TERMINATED" : true).toBe(true)
        }
        expect(s.version).toBe(1 + accepted)
      })
    )
  })

  it("transition agrees with decide on status for every event", () => {
    fc.assert(
      fc.property(fc.constantFrom(...statuses), arbEvent, (status, e) => {
        const viaService = Lifecycle.transition(service(status), e, t0)
        const viaStatus = Lifecycle.decide(status, e._tag)
        expect(Either.isRight(viaService)).toBe(Either.isRight(viaStatus))
        if (Either.isRight(viaService) && Either.isRight(viaStatus)) {
          expect(viaService.right.next.status).toBe(viaStatus.right)
        }
      })
    )
  })

  it("every status is reachable from PENDING", () => {
    const seen = new Set<ServiceStatus>(["PENDING"])
    const frontier: Array<ServiceStatus> = ["PENDING"]
    while (frontier.length > 0) {
      const status = frontier.pop()!
      for (const tag of Lifecycle.eventTags) {
        const r = Lifecycle.decide(status, tag)
        if (Either.isRight(r) && !seen.has(r.right)) {
          seen.add(r.right)
          frontier.push(r.right)
        }
      }
    }
    expect([...seen].sort()).toEqual([...statuses].sort())
  })

  it("the brief's path PENDING → ACTIVE → SUSPENDED → TERMINATED is allowed", () => {
    const path: Array<Lifecycle.EventTag> = ["ProvisioningSucceeded", "Suspend", "Terminate"]
    let s = service("PENDING")
    for (const tag of path) s = Either.getOrThrow(Lifecycle.transition(s, sampleEvent(tag), t0)).next
    expect(s.status).toBe("TERMINATED")
  })
})
