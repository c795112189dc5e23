import { Schema } from "effect"
import { BillingCycle, MemoryUsageStore, type IngestItem, type AccountingSession } from "@isp-framework/core"
import { recordOf, serviceOf } from "./internal/AccountingBench.js"
import { counterColumns } from "../packages/adapters/src/postgres/usage/SessionRows.js"
import * as BucketRows from "../packages/adapters/src/postgres/usage/BucketRows.js"
import { columns } from "../packages/adapters/src/postgres/usage/SessionRows.js"
const cycle = Schema.decodeUnknownSync(BillingCycle)({ timeZone: "UTC", period: "MONTHLY", anchorDate: "2026-01-01" })
const N = 2000
const sessions = new Map<string, AccountingSession>()
const itemsOf = (round: number, base: number): IngestItem[] => Array.from({ length: N }, (_, j) => ({ record: recordOf(base + j, round), serviceId: serviceOf(base + j), customerId: `c${base + j}`, cycle }))
// prime sessions
for (let b = 0; b < 10; b++) {
  const f = MemoryUsageStore.foldBatch({ get: (id) => sessions.get(id) }, itemsOf(0, b * N))
  for (const [k, v] of f.changed) sessions.set(k, v)
}
const time = (name: string, reps: number, f: (r: number) => void) => {
  for (let r = 0; r < 3; r++) f(r)
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) f(r)
  const us = (performance.now() - t0) * 1000 / (reps * N)
  console.log(`${name}: ${us.toFixed(2)} us/record`)
}
let round = 1
const batches = Array.from({ length: 10 }, (_, b) => itemsOf(1, b * N))
time("recordOf", 20, (r) => { for (let j = 0; j < N; j++) recordOf(j + (r % 10) * N, 2) })
time("foldBatch", 20, (r) => { MemoryUsageStore.foldBatch({ get: (id) => sessions.get(id) }, batches[r % 10]!) })
const folds = batches.map((b) => MemoryUsageStore.foldBatch({ get: (id) => sessions.get(id) }, b))
time("counterColumns", 20, (r) => { counterColumns([...folds[r % 10]!.changed.values()].map((s) => ({ session: s, version: 3 }))) })
time("bucketRows+columns", 20, (r) => {
  const rows = BucketRows.rowsOf(folds[r % 10]!.buckets)
  BucketRows.keysOf(rows)
  columns(rows, [
    ["text", (r) => r.serviceId],
    ["number", (r) => r.hour?.periodStart.epochMillis ?? null],
    ["number", (r) => r.period?.periodStart.epochMillis ?? null],
    ["number", (r) => r.bytesIn],
    ["number", (r) => r.bytesOut],
    ["number", (r) => r.sessionSeconds]
  ])
})
