import { afterAll, describe, expect, it } from "vitest"
import { ConflictError, createIsp, InvalidInputError, NotFoundError } from "./Isp.js"

describe("Promise facade", () => {
  const isp = createIsp()
  afterAll(() => isp.dispose())

  it("provisions, activates, suspends; failures reject with typed errors", async () => {
    const template = await isp.createTemplate({
      serviceType: "INTERNET",
      name: "fiber-embed",
      displayName: "Fiber",
      tariffId: "t-1",
      internet: { downloadSpeedKbps: 50_000, uploadSpeedKbps: 10_000 }
    })
    const { service, workflow } = await isp.provisionInternet(
      { customerId: "c-1", templateId: template.id, pppoeUsername: "embed-user", pppoePassword: "pw" },
      { idempotencyKey: "k1" }
    )
    expect(service.status).toBe("PENDING")
    await isp.runWorkflows()
    expect((await isp.workflow(workflow.id)).status).toBe("SUCCEEDED")
    expect((await isp.getService(service.id)).service.status).toBe("ACTIVE")
    const page = await isp.searchServices({ status: "ACTIVE" }, { customerId: "c-1" })
    expect(page.items.map((s) => s.service.id)).toEqual([service.id])

    await isp.suspend(service.id, { reason: "NON_PAYMENT" })
    const again = isp.suspend(service.id, { reason: "NON_PAYMENT" })
    await expect(again).rejects.toBeInstanceOf(ConflictError)
    await expect(again).rejects.toMatchObject({ tag: "InvalidTransition", status: 409 })

    await expect(isp.getService("0190a3f1-0000-7000-8000-000000000000")).rejects.toBeInstanceOf(NotFoundError)
    await expect(isp.searchServices({ colour: "red" })).rejects.toMatchObject({ tag: "InvalidFilter", details: { key: "colour" } })
    await expect(isp.provisionInternet({ customerId: "c-1" })).rejects.toBeInstanceOf(InvalidInputError)
  })
})
