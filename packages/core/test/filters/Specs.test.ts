import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { ServiceAlert } from "../../src/domain/Alert.js"
import { CustomerService } from "../../src/domain/CustomerService.js"
import { ServiceTemplate } from "../../src/domain/ServiceTemplate.js"
import { StatusChange } from "../../src/domain/StatusChange.js"
import { ProvisioningWorkflow } from "../../src/domain/Workflow.js"
import { matches } from "../../src/filters/Evaluate.js"
import {
  AlertFilterSpec, type EntitySpec, ServiceFilterSpec, StatusChangeFilterSpec, TemplateFilterSpec, WorkflowFilterSpec
} from "../../src/filters/index.js"
import { parseEither } from "../../src/filters/Parse.js"

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

const pairs: ReadonlyArray<readonly [EntitySpec<never>, { readonly fields: Record<string, unknown> }]> = [
  [ServiceFilterSpec as never, CustomerService],
  [TemplateFilterSpec as never, ServiceTemplate],
  [AlertFilterSpec as never, ServiceAlert],
  [WorkflowFilterSpec as never, ProvisioningWorkflow],
  [StatusChangeFilterSpec as never, StatusChange]
]

describe("entity specs", () => {
  for (const [spec, model] of pairs) {
    it(`${spec.entity}: every filter key is a model field, column = key, only non-null fields sortable`, () => {
      for (const [key, field] of Object.entries(spec.fields)) {
        expect(Object.keys(model.fields)).toContain(camel(key))
        expect(field.column).toBe(key)
        if (field.nullable) expect(field.sortable).toBe(false)
        if (field.kind === "enum") expect(field.values?.length).toBeGreaterThan(0)
      }
      expect(spec.fields[spec.idField].kind).toBe("uuid")
    })
  }

  it("reads CustomerService models (DateTime → Date, null stays null)", () => {
    const service = new CustomerService({
      id: "0190f3b1-0000-7000-8000-000000000001" as CustomerService["id"],
      serviceNumber: "SVC-000001",
      customerId: "cust-1" as CustomerService["customerId"],
      templateId: "0190f3b1-0000-7000-8000-0000000000aa" as CustomerService["templateId"],
      tariffId: "tariff-1" as CustomerService["tariffId"],
      serviceType: "INTERNET",
      status: "ACTIVE",
      suspensionReason: null,
      suspensionType: null,
      connectionType: "PPPOE",
      pppoeUsername: "Alice@Fiber",
      pppoePassword: null,
      macAddress: null,
      circuitId: null,
      routerId: null,
      location: "North",
      billingModel: "POSTPAID",
      downloadSpeedKbps: 50_000,
      uploadSpeedKbps: 10_000,
      requestedIp: null,
      activatedAt: DateTime.unsafeMake("2026-01-02T00:00:00Z"),
      suspendedAt: null,
      terminatedAt: null,
      contractStart: null,
      contractEnd: null,
      createdAt: DateTime.unsafeMake("2026-01-01T00:00:00Z"),
      updatedAt: DateTime.unsafeMake("2026-01-01T00:00:00Z"),
      version: 1
    })
    const yes = (dict: Record<string, unknown>) => matches(ServiceFilterSpec, Either.getOrThrow(parseEither(ServiceFilterSpec, dict)).where, service)
    expect(yes({ status: "ACTIVE", pppoe_username__icontains: "alice@", created_at__lt: "2026-01-01T00:00:00.001Z" })).toBe(true)
    expect(yes({ activated_at__gte: "2026-01-02", suspension_reason__isnull: "true", suspension_reason__ne: "ABUSE" })).toBe(true)
    expect(yes({ download_speed_kbps__range: "10000,49999" })).toBe(false)
    expect(yes({ suspended_at__isnull: false })).toBe(false)
  })
})
