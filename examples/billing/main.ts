// A billing run over the in-process usage API, on the in-memory adapters (no database, no network).
// Accounting arrives (a session past 4 GB, a retransmitted interim, two devices of one customer), then
// billing reads `usageForBilling` for the month and `usage` per service, and prints an invoice table.
// Run: npx tsx examples/billing/main.ts
import {
  CreateService,
  CreateTemplate,
  InternetSpec,
  makeAccountingRecord,
  MemoryLayer,
  MemoryUsageStore,
  ServiceCatalog,
  ServiceLifecycle,
  ServiceRepository,
  ServiceUsage,
  TemplateRepository
} from "@isp-framework/core"
import { Chunk, DateTime, Effect, Layer, Option, Redacted, Stream } from "effect"
import { pathToFileURL } from "node:url"

const GB = 1_000_000_000n
const GW = 4_294_967_296n
/** Monthly price and overage price (per started GB above the plan's data limit), in cents. */
const TARIFFS: Record<string, { readonly monthlyCents: number; readonly overagePerGbCents: number }> = {
  "T-FIBER-100": { monthlyCents: 3_900, overagePerGbCents: 0 },
  "T-LITE-20": { monthlyCents: 1_900, overagePerGbCents: 50 }
}

/** One invoice line of the run. */
export interface InvoiceLine {
  readonly customer: string
  readonly service: string
  readonly plan: string
  readonly downloadBytes: bigint
  readonly uploadBytes: bigint
  readonly hours: number
  readonly overageGb: bigint
  readonly amountCents: number
}

const at = (iso: string) => DateTime.unsafeMake(iso) as DateTime.Utc

/** A NAS's cumulative counters for one record (64-bit bytes split into octets + gigawords). */
const record = (
  statusType: "Start" | "Interim-Update" | "Stop",
  session: string,
  user: string,
  when: string,
  seconds: number,
  upload: bigint,
  download: bigint
) =>
  makeAccountingRecord({
    statusType,
    acctSessionId: session,
    userName: user,
    nasIpAddress: "192.0.2.1",
    inputOctets: Number(upload % GW),
    inputGigawords: Number(upload / GW),
    outputOctets: Number(download % GW),
    outputGigawords: Number(download / GW),
    sessionTime: seconds,
    eventTime: at(when)
  })

/** Sets up two plans and three services, ingests March's accounting, runs the billing for March. */
export const main = Effect.gen(function*() {
  const catalog = yield* ServiceCatalog
  const lifecycle = yield* ServiceLifecycle
  const usage = yield* ServiceUsage
  const fiber = yield* catalog.create(CreateTemplate.make({
    serviceType: "INTERNET", name: "fiber-100", displayName: "Fiber 100", tariffId: CreateTemplate.fields.tariffId.make("T-FIBER-100"),
    internet: InternetSpec.make({ downloadSpeedKbps: 100_000, uploadSpeedKbps: 20_000 })
  }))
  const lite = yield* catalog.create(CreateTemplate.make({
    serviceType: "INTERNET", name: "lite-20", displayName: "Lite 20", tariffId: CreateTemplate.fields.tariffId.make("T-LITE-20"),
    internet: InternetSpec.make({ downloadSpeedKbps: 20_000, uploadSpeedKbps: 5_000, monthlyDataLimitBytes: 10n * GB })
  }))
  const activate = (customer: string, templateId: typeof fiber.id, user: string) =>
    Effect.gen(function*() {
      const s = yield* lifecycle.create(CreateService.make({
        customerId: CreateService.fields.customerId.make(customer), templateId,
        connectionType: "PPPOE", pppoeUsername: user, pppoePassword: Redacted.make("pw")
      }))
      yield* lifecycle.apply(s.id, { _tag: "ProvisioningSucceeded" })
      return s
    })
  const alice = yield* activate("C-ALICE", fiber.id, "alice")
  yield* activate("C-BOB", lite.id, "bob")
  yield* activate("C-BOB", lite.id, "bob-tv")

  // What the AccountingServer would hand over, in batches (duplicates included).
  const interim = record("Interim-Update", "a-1", "alice", "2026-03-02T09:00:00Z", 3600, 3n * GB, 9n * GB)
  yield* usage.ingest([
    record("Start", "a-1", "alice", "2026-03-02T08:00:00Z", 0, 0n, 0n),
    interim,
    record("Start", "b-1", "bob", "2026-03-05T18:00:00Z", 0, 0n, 0n)
  ])
  yield* usage.ingest([interim]) // a retransmit: counted once
  yield* usage.ingest([
    record("Stop", "a-1", "alice", "2026-03-02T12:00:00Z", 14_400, 4n * GB, 12n * GB),
    record("Stop", "b-1", "bob", "2026-03-05T23:00:00Z", 18_000, GB / 2n, 10n * GB),
    record("Stop", "t-1", "bob-tv", "2026-03-20T22:00:00Z", 7_200, GB / 10n, 3n * GB), // Stop without Start
    record("Stop", "x-1", "alice", "2026-04-01T00:30:00Z", 600, 1n, 1n) // April: not on March's invoice
  ])

  // The billing run: every service's totals for March (local midnights, operator zone UTC).
  const period = { from: at("2026-03-01T00:00:00Z"), to: at("2026-04-01T00:00:00Z") }
  const services = yield* ServiceRepository
  const templates = yield* TemplateRepository
  const totals = yield* Stream.runCollect(usage.usageForBilling(period))
  const lines: Array<InvoiceLine> = []
  for (const t of Chunk.toReadonlyArray(totals)) {
    const service = Option.getOrThrow(yield* services.findById(t.serviceId))
    const template = Option.getOrThrow(yield* templates.findById(service.templateId))
    const tariff = TARIFFS[template.tariffId]!
    const used = t.bytesIn + t.bytesOut
    const limit = template.internet?.monthlyDataLimitBytes ?? null
    const over = limit === null || used <= limit ? 0n : (used - limit + GB - 1n) / GB // started GB
    lines.push({
      customer: service.customerId,
      service: service.serviceNumber,
      plan: template.name,
      downloadBytes: t.bytesOut,
      uploadBytes: t.bytesIn,
      hours: t.sessionSeconds / 3600,
      overageGb: over,
      amountCents: tariff.monthlyCents + Number(over) * tariff.overagePerGbCents
    })
  }
  // One service in detail, as a customer portal would show it: the daily series of the month.
  const detail = yield* usage.usage(alice.id, { ...period, granularity: "DAY" })
  return { lines, aliceDays: detail.series.length, aliceTotal: detail.totalBytes }
})

/** Use-cases on memory: catalog, lifecycle, usage. */
export const layer = Layer.mergeAll(ServiceCatalog.Default, ServiceLifecycle.Default, ServiceUsage.Default).pipe(
  Layer.provideMerge(MemoryUsageStore.layerAll),
  Layer.provideMerge(MemoryLayer)
)

const gb = (b: bigint) => (Number(b) / 1e9).toFixed(2)

/** The invoice table as text. */
export const formatInvoices = (lines: ReadonlyArray<InvoiceLine>): string => {
  const rows = [
    ["customer", "service", "plan", "down GB", "up GB", "hours", "over GB", "amount"],
    ...lines.map((l) => [
      l.customer, l.service, l.plan, gb(l.downloadBytes), gb(l.uploadBytes), l.hours.toFixed(1), String(l.overageGb),
      (l.amountCents / 100).toFixed(2)
    ])
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(Effect.provide(main, layer)).then(({ lines }) => {
    console.log("Invoices for March 2026")
    console.log(formatInvoices(lines))
  })
}
