/**
 * A batch's bucket additions as the rows of the ingest's bucket update. Nearly every service in a
 * batch adds the same counters to one HOUR and one PERIOD bucket: those travel as one row carrying
 * both starts (half the array elements for PostgreSQL to parse); anything else — an hour boundary or
 * a period boundary inside the batch — travels as one row per bucket, with the other start null.
 *
 * Rows come in key order — service, then HOUR before PERIOD, then start — which is the order the
 * update locks bucket rows in (the same in every batch, so concurrent batches do not deadlock).
 *
 * @internal
 */
import type { MemoryUsageStore } from "@isp-framework/core"

type BucketAdd = MemoryUsageStore.BucketAdd

/** One row of the update: `hour` and/or `period` set, with the counters added to each. */
export interface BucketRow {
  readonly serviceId: string
  readonly hour: BucketAdd | null
  readonly period: BucketAdd | null
  readonly bytesIn: bigint
  readonly bytesOut: bigint
  readonly sessionSeconds: number
}

const byStart = (a: BucketAdd, b: BucketAdd) => a.periodStart.epochMillis - b.periodStart.epochMillis
const only = (add: BucketAdd, hour: boolean): BucketRow => ({
  serviceId: add.serviceId,
  hour: hour ? add : null,
  period: hour ? null : add,
  bytesIn: add.bytesIn,
  bytesOut: add.bytesOut,
  sessionSeconds: add.sessionSeconds
})

/** A service's additions: its first HOUR and PERIOD, and any further ones (a boundary inside the batch). */
interface OfService {
  hour: BucketAdd | null
  period: BucketAdd | null
  more: Array<BucketAdd> | null
}

/** The rows for `adds` (HOUR and PERIOD additions; others are ignored), in key order. */
export const rowsOf = (adds: ReadonlyArray<BucketAdd>): Array<BucketRow> => {
  // One small object per service and no arrays in the common case: this runs over every batch.
  const byService = new Map<string, OfService>()
  for (const a of adds) {
    if (a.granularity === "DAY") continue
    let s = byService.get(a.serviceId)
    if (s === undefined) {
      s = { hour: null, period: null, more: null }
      byService.set(a.serviceId, s)
    }
    if (a.granularity === "HOUR" && s.hour === null) s.hour = a
    else if (a.granularity === "PERIOD" && s.period === null) s.period = a
    else (s.more ??= []).push(a)
  }
  const rows: Array<BucketRow> = []
  for (const serviceId of [...byService.keys()].sort()) {
    const { hour: h, more, period: p } = byService.get(serviceId)!
    if (
      more === null && h !== null && p !== null &&
      h.bytesIn === p.bytesIn && h.bytesOut === p.bytesOut && h.sessionSeconds === p.sessionSeconds
    ) {
      rows.push({ serviceId, hour: h, period: p, bytesIn: h.bytesIn, bytesOut: h.bytesOut, sessionSeconds: h.sessionSeconds })
      continue
    }
    const all = more === null ? [] : [...more]
    if (h !== null) all.push(h)
    if (p !== null) all.push(p)
    for (const x of all.filter((x) => x.granularity === "HOUR").sort(byStart)) rows.push(only(x, true))
    for (const x of all.filter((x) => x.granularity === "PERIOD").sort(byStart)) rows.push(only(x, false))
  }
  return rows
}

/**
 * The bucket behind key `k` of the update (`2n` the HOUR, `2n + 1` the PERIOD of row n, counted
 * from 1 as `WITH ORDINALITY` does).
 */
export const bucketAt = (rows: ReadonlyArray<BucketRow>, k: number): BucketAdd | null => {
  const row = rows[(k >> 1) - 1]
  return row === undefined ? null : (k & 1) === 0 ? row.hour : row.period
}

/** Every key the update should find. */
export const keysOf = (rows: ReadonlyArray<BucketRow>): Array<number> => {
  const keys: Array<number> = []
  for (let n = 1; n <= rows.length; n++) {
    const r = rows[n - 1]!
    if (r.hour !== null) keys.push(2 * n)
    if (r.period !== null) keys.push(2 * n + 1)
  }
  return keys
}
