/**
 * In-memory usage tracking: {@link UsageStore}, {@link FramedIpLookup} and {@link PrepaidBalances}.
 * Also home of {@link foldBatch}, the per-batch fold every store runs (the SQL store runs it on the
 * rows it locked), so the memory and Postgres stores cannot count differently.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Either, Layer, Option, Ref, Stream } from "effect"
import type { ServiceId } from "../domain/Ids.js"
import type {
  AccountingRecord,
  AccountingSession,
  BillingCycle,
  UsageBucket,
  UsageDelta,
  UsageGranularity
} from "../domain/Usage.js"
import { UsageBucket as UsageBucketClass } from "../domain/Usage.js"
import * as Periods from "../usage/Periods.js"
import * as SessionFold from "../usage/SessionFold.js"
import {
  FramedIpLookup,
  type IngestItem,
  type IngestResult,
  type PrepaidAccount,
  PrepaidBalances,
  type ServiceTotals,
  UsageStore
} from "../ports/UsageStore.js"

/** An addition to one bucket, aggregated over a batch. */
export interface BucketAdd {
  readonly serviceId: ServiceId
  readonly granularity: UsageGranularity
  readonly periodStart: DateTime.Utc
  readonly periodEnd: DateTime.Utc
  bytesIn: bigint
  bytesOut: bigint
  sessionSeconds: number
  /** For an HOUR bucket: the local day (of the service's cycle) the hour belongs to. */
  readonly day?: Periods.Interval | undefined
}

/** The outcome of {@link foldBatch}: what a store must write. */
export interface BatchFold {
  /** Sessions whose state changed (new or updated), by session id. */
  readonly changed: ReadonlyMap<string, AccountingSession>
  readonly deltas: ReadonlyArray<UsageDelta>
  /** Bucket additions, one per bucket key. */
  readonly buckets: ReadonlyArray<BucketAdd>
  /** Accounting-On/Off records, to apply after the session records. */
  readonly nasEvents: ReadonlyArray<AccountingRecord>
  readonly records: number
}

// Every zone offset in use is a multiple of 15 minutes, so no local hour, day or billing-period
// boundary falls inside a UTC 15-minute slot: the three buckets of any instant in a slot are the
// same. Caching them per (cycle, slot) saves the Intl calls that dominate the fold's cost.
const SLOT_MS = 15 * 60_000
const MAX_CACHED_SLOTS = 100_000
const cycleKeys = new WeakMap<BillingCycle, string>()
const intervalCache = new Map<string, Map<number, ReadonlyArray<Periods.Interval>>>()
let cachedSlots = 0

/** The HOUR, DAY and PERIOD buckets of an instant (in `Periods.granularities` order), cached. */
export const bucketsAt = (at: DateTime.Utc, cycle: BillingCycle): ReadonlyArray<Periods.Interval> => {
  let cycleKey = cycleKeys.get(cycle)
  if (cycleKey === undefined) {
    cycleKey = `${cycle.timeZone}|${cycle.period}|${cycle.anchorDate}`
    cycleKeys.set(cycle, cycleKey)
  }
  let slots = intervalCache.get(cycleKey)
  if (slots === undefined) {
    slots = new Map()
    intervalCache.set(cycleKey, slots)
  }
  const slot = Math.floor(at.epochMillis / SLOT_MS)
  let hit = slots.get(slot)
  if (hit === undefined) {
    hit = Periods.granularities.map((g) => Periods.bucketOf(g, at, cycle))
    if (++cachedSlots > MAX_CACHED_SLOTS) {
      intervalCache.clear()
      cachedSlots = 1
      slots = new Map()
      intervalCache.set(cycleKey, slots)
    }
    slots.set(slot, hit)
  }
  return hit
}

/** The session ids of a batch's session records (NAS events excluded), de-duplicated. */
export const sessionIdsOf = (batch: ReadonlyArray<IngestItem>): ReadonlyArray<string> => {
  const ids = new Set<string>()
  for (const item of batch) {
    const t = item.record.statusType
    if (t !== "Accounting-On" && t !== "Accounting-Off") ids.add(item.record.acctUniqueSessionId)
  }
  return [...ids]
}

/**
 * Folds a batch into the given current sessions (pure). Records fold in batch order; the result
 * does not depend on it (see docs/usage-model.md), only the split across buckets may.
 */
export const foldBatch = (
  current: { readonly get: (sessionId: string) => AccountingSession | undefined },
  batch: ReadonlyArray<IngestItem>,
  toleranceSeconds?: number
): BatchFold => {
  // Sessions this batch changed, over `current` (not a copy of it: the SQL store passes thousands).
  const changed = new Map<string, AccountingSession>()
  const deltas: Array<UsageDelta> = []
  // Bucket additions by service: a service's records in one batch nearly always share their buckets,
  // so a short list per service beats string keys per record.
  const byService = new Map<ServiceId, Array<BucketAdd>>()
  const buckets: Array<BucketAdd> = []
  const nasEvents: Array<AccountingRecord> = []
  let records = 0
  const foldOptions = { serviceId: null as ServiceId | null, toleranceSeconds }
  for (const item of batch) {
    const r = item.record
    if (r.statusType === "Accounting-On" || r.statusType === "Accounting-Off") {
      nasEvents.push(r)
      continue
    }
    const id = r.acctUniqueSessionId
    const before = changed.get(id) ?? current.get(id)
    foldOptions.serviceId = item.serviceId
    const res = SessionFold.applyRecord(before, r, foldOptions)
    if (Either.isLeft(res)) continue
    records++
    const { delta, session } = res.right
    if (session !== before) changed.set(session.sessionId, session)
    if (delta.isZero) continue
    deltas.push(delta)
    if (delta.serviceId === null) continue
    const intervals = bucketsAt(delta.at, item.cycle)
    let adds = byService.get(delta.serviceId)
    if (adds === undefined) {
      adds = []
      byService.set(delta.serviceId, adds)
    }
    for (let gi = 0; gi < 3; gi++) {
      const b = intervals[gi]!
      let cur: BucketAdd | undefined
      for (const a of adds) {
        if (a.periodStart.epochMillis === b.start.epochMillis && a.granularity === Periods.granularities[gi]) {
          cur = a
          break
        }
      }
      if (cur === undefined) {
        cur = {
          serviceId: delta.serviceId,
          granularity: Periods.granularities[gi]!,
          periodStart: b.start,
          periodEnd: b.end,
          bytesIn: delta.bytesIn,
          bytesOut: delta.bytesOut,
          sessionSeconds: delta.sessionSeconds,
          day: gi === 0 ? intervals[1] : undefined
        }
        adds.push(cur)
        buckets.push(cur)
      } else {
        cur.bytesIn += delta.bytesIn
        cur.bytesOut += delta.bytesOut
        cur.sessionSeconds += delta.sessionSeconds
      }
    }
  }
  return { changed, deltas, buckets, nasEvents, records }
}

/** The services a fold touched. */
export const affectedServicesOf = (deltas: ReadonlyArray<UsageDelta>): ReadonlyArray<ServiceId> => {
  const s = new Set<ServiceId>()
  for (const d of deltas) if (d.serviceId !== null) s.add(d.serviceId)
  return [...s]
}

interface State {
  readonly sessions: Map<string, AccountingSession>
  readonly buckets: Map<string, UsageBucket>
}

/** Options of the memory store. */
export interface Options {
  readonly toleranceSeconds?: number | undefined
}

/** A fresh in-memory {@link UsageStore}. Batches are applied one at a time (a one-permit lock). */
export const make = (options: Options = {}): Effect.Effect<UsageStore> =>
  Effect.gen(function*() {
    const state: State = { sessions: new Map(), buckets: new Map() }
    const lock = yield* Effect.makeSemaphore(1)

    const ingest = (batch: ReadonlyArray<IngestItem>): Effect.Effect<IngestResult> =>
      lock.withPermits(1)(Effect.sync(() => {
        const fold = foldBatch(state.sessions, batch, options.toleranceSeconds)
        for (const [id, s] of fold.changed) state.sessions.set(id, s)
        for (const add of fold.buckets) {
          const key = Periods.bucketKey(add.serviceId, add.granularity, add.periodStart)
          const cur = state.buckets.get(key)
          state.buckets.set(
            key,
            new UsageBucketClass({
              serviceId: add.serviceId,
              granularity: add.granularity,
              periodStart: add.periodStart,
              periodEnd: add.periodEnd,
              bytesIn: (cur?.bytesIn ?? 0n) + add.bytesIn,
              bytesOut: (cur?.bytesOut ?? 0n) + add.bytesOut,
              sessionSeconds: (cur?.sessionSeconds ?? 0) + add.sessionSeconds
            })
          )
        }
        let closedByNas = 0
        for (const ev of fold.nasEvents) {
          for (const s of SessionFold.applyNasEvent(state.sessions.values(), ev)) {
            state.sessions.set(s.sessionId, s)
            closedByNas++
          }
        }
        return { records: fold.records, deltas: fold.deltas, closedByNas, affectedServices: affectedServicesOf(fold.deltas) }
      }))

    const inRange = (b: UsageBucket, from: DateTime.Utc, to: DateTime.Utc) =>
      b.periodStart.epochMillis >= from.epochMillis && b.periodStart.epochMillis < to.epochMillis

    return UsageStore.of({
      ingest,
      closeStale: (now, intervalSeconds, n) =>
        lock.withPermits(1)(Effect.sync(() => {
          const closed = SessionFold.closeStale(state.sessions.values(), now, intervalSeconds, n)
          for (const s of closed) state.sessions.set(s.sessionId, s)
          return closed
        })),
      buckets: (serviceId, granularity, from, to) =>
        Effect.sync(() =>
          [...state.buckets.values()]
            .filter((b) => b.serviceId === serviceId && b.granularity === granularity && inRange(b, from, to))
            .sort((a, b) => a.periodStart.epochMillis - b.periodStart.epochMillis)
        ),
      session: (id) => Effect.sync(() => Option.fromNullable(state.sessions.get(id))),
      sessions: (q) =>
        Effect.sync(() =>
          [...state.sessions.values()]
            .filter((s) =>
              (q.serviceId === undefined || s.serviceId === q.serviceId) &&
              (q.status === undefined || s.status === q.status) &&
              (q.updatedSince === undefined || s.lastUpdateAt.epochMillis >= q.updatedSince.epochMillis)
            )
            .sort((a, b) => b.lastUpdateAt.epochMillis - a.lastUpdateAt.epochMillis)
            .slice(0, q.limit ?? 1000)
        ),
      totals: (granularity, from, to) =>
        Stream.suspend(() => {
          const sums = new Map<ServiceId, { bytesIn: bigint; bytesOut: bigint; sessionSeconds: number }>()
          for (const b of state.buckets.values()) {
            if (b.granularity !== granularity || !inRange(b, from, to)) continue
            const cur = sums.get(b.serviceId) ?? { bytesIn: 0n, bytesOut: 0n, sessionSeconds: 0 }
            sums.set(b.serviceId, {
              bytesIn: cur.bytesIn + b.bytesIn,
              bytesOut: cur.bytesOut + b.bytesOut,
              sessionSeconds: cur.sessionSeconds + b.sessionSeconds
            })
          }
          const rows: Array<ServiceTotals> = [...sums.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([serviceId, t]) => ({ serviceId, ...t }))
          return Stream.fromIterable(rows)
        })
    })
  })

/** An empty in-memory usage store. */
export const layer: Layer.Layer<UsageStore> = Layer.effect(UsageStore, make())

/** A {@link FramedIpLookup} over a mutable map (register addresses with {@link MemoryFramedIps}). */
export class MemoryFramedIps extends Effect.Service<MemoryFramedIps>()("@isp-framework/core/MemoryFramedIps", {
  effect: Effect.map(Ref.make(new Map<string, ServiceId>()), (ref) => ({
    register: (address: string, serviceId: ServiceId) => Ref.update(ref, (m) => new Map(m).set(address, serviceId)),
    unregister: (address: string) =>
      Ref.update(ref, (m) => {
        const n = new Map(m)
        n.delete(address)
        return n
      }),
    byAddress: (address: string) => Effect.map(Ref.get(ref), (m) => Option.fromNullable(m.get(address)))
  }))
}) {}

/** {@link FramedIpLookup} backed by {@link MemoryFramedIps} (both provided). */
export const framedIpLayer: Layer.Layer<FramedIpLookup | MemoryFramedIps> = Layer.effect(
  FramedIpLookup,
  Effect.map(MemoryFramedIps, (m) => FramedIpLookup.of({ byAddress: m.byAddress }))
).pipe(Layer.provideMerge(MemoryFramedIps.Default))

/** In-memory prepaid balances. */
export const prepaidLayer: Layer.Layer<PrepaidBalances> = Layer.effect(
  PrepaidBalances,
  Effect.map(Ref.make(new Map<ServiceId, PrepaidAccount>()), (ref) =>
    PrepaidBalances.of({
      get: (id) => Effect.map(Ref.get(ref), (m) => Option.fromNullable(m.get(id))),
      put: (account) => Ref.update(ref, (m) => new Map(m).set(account.serviceId, account))
    }))
)

/** Store, framed-IP lookup and prepaid balances, all in memory. */
export const layerAll = Layer.mergeAll(layer, framedIpLayer, prepaidLayer)

