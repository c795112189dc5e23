/**
 * The accounting fold: how Accounting-Requests become session usage, exactly once.
 *
 * Interim-Updates and Stops carry *cumulative* counters, so a session's usage is derived from the
 * highest counters seen, never by adding packets up. The state is built so that it is a function
 * of the *set* of records received — every step is a max or a union — which makes retransmits,
 * duplicates and any delivery order give the same final totals:
 *
 * - Each record covers the interval [eventTime − sessionTime, eventTime] (when its counters
 *   started, when it was produced). Records whose intervals overlap (within `toleranceSeconds`)
 *   belong to one *segment*; a NAS reboot that restarts the counters of a kept session produces
 *   records whose interval starts after everything earlier: a new segment.
 * - Each segment keeps its highest counters and session time; the session total is the sum over
 *   segments (a reset accumulates instead of going negative).
 * - Records without Acct-Session-Time cannot be placed in time; their highest counters act as a
 *   floor under the total (`max(Σ segments, floor)`), so a NAS that never sends it still counts
 *   correctly (without reset detection) and mixing never double-counts.
 *
 * Each application returns a {@link UsageDelta} = total after − total before, stamped with the
 * record's event time; summed over any delivery order the deltas equal the final totals.
 *
 * @since 0.1.0
 */
import { DateTime, Either } from "effect"
import {
  AccountingRecord,
  AccountingSession,
  type CloseSource,
  NotASessionRecord,
  SessionMismatch,
  UsageDelta,
  UsageSegment
} from "../domain/Usage.js"
import type { ServiceId } from "../domain/Ids.js"
import { instance } from "./internal/instance.js"

/** Options of {@link applyRecord}. */
export interface FoldOptions {
  /** The service the ingest mapped this session to; used when the session has none yet. */
  readonly serviceId?: ServiceId | null | undefined
  /**
   * How far apart (seconds) two records' intervals may be and still count as the same run of
   * counters. Absorbs clock jitter (1 s timestamp resolution, receive-time estimates); a genuine
   * counter reset starts after the previous record by more than this. Default 30.
   */
  readonly toleranceSeconds?: number | undefined
}

/** The new session state and the usage the record added. */
export interface FoldResult {
  readonly session: AccountingSession
  readonly delta: UsageDelta
}

/** The default segment tolerance in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 30

const ms = (d: DateTime.Utc) => d.epochMillis
const utc = (millis: number) => DateTime.unsafeMake(millis) as DateTime.Utc
const bigMax = (a: bigint, b: bigint) => (a >= b ? a : b)

/** Session totals derived from segments: Σ anchored segments, floored by the unanchored one. */
export const totalsOf = (
  segments: ReadonlyArray<UsageSegment>
): { readonly inputBytes: bigint; readonly outputBytes: bigint; readonly sessionSeconds: number } => {
  // The common case, one run of counters: its maxima are the totals.
  if (segments.length === 1 && segments[0]!.anchored) return segments[0]!
  let inSum = 0n
  let outSum = 0n
  let secSum = 0
  let inFloor = 0n
  let outFloor = 0n
  let secFloor = 0
  for (const s of segments) {
    if (s.anchored) {
      inSum += s.inputBytes
      outSum += s.outputBytes
      secSum += s.sessionSeconds
    } else {
      inFloor = bigMax(inFloor, s.inputBytes)
      outFloor = bigMax(outFloor, s.outputBytes)
      secFloor = Math.max(secFloor, s.sessionSeconds)
    }
  }
  return { inputBytes: bigMax(inSum, inFloor), outputBytes: bigMax(outSum, outFloor), sessionSeconds: Math.max(secSum, secFloor) }
}

const earlier = (a: DateTime.Utc, b: DateTime.Utc) => (b.epochMillis < a.epochMillis ? b : a)
const later = (a: DateTime.Utc, b: DateTime.Utc) => (b.epochMillis > a.epochMillis ? b : a)

/**
 * Merges a record into the segment list (pure). Returns the same array when the record adds
 * nothing (a duplicate or a late, lower record), else a new, start-ordered list. DateTime objects
 * are reused rather than rebuilt: this runs once per accounting packet.
 */
const addToSegments = (
  segments: ReadonlyArray<UsageSegment>,
  record: AccountingRecord,
  toleranceMs: number
): ReadonlyArray<UsageSegment> => {
  const ev = record.eventTime
  const e = ms(ev)
  const inB = record.inputBytes
  const outB = record.outputBytes
  // A Start's session time is zero by definition, whether or not the NAS says so.
  const sessionTime = record.sessionTime ?? (record.statusType === "Start" ? 0 : null)

  if (sessionTime === null) {
    const existing = segments.find((s) => !s.anchored)
    if (
      existing &&
      e >= ms(existing.firstEventAt) &&
      e <= ms(existing.lastEventAt) &&
      inB <= existing.inputBytes &&
      outB <= existing.outputBytes
    ) {
      return segments
    }
    const first = existing ? earlier(existing.firstEventAt, ev) : ev
    const last = existing ? later(existing.lastEventAt, ev) : ev
    const floor = instance(UsageSegment, {
      anchored: false,
      startFrom: first,
      firstEventAt: first,
      lastEventAt: last,
      inputBytes: existing ? bigMax(existing.inputBytes, inB) : inB,
      outputBytes: existing ? bigMax(existing.outputBytes, outB) : outB,
      sessionSeconds: Math.floor((ms(last) - ms(first)) / 1000)
    })
    return [...segments.filter((s) => s.anchored), floor]
  }

  const start = e - sessionTime * 1000
  let from: DateTime.Utc | undefined
  let firstEv = ev
  let lastEv = ev
  let inMax = inB
  let outMax = outB
  let secMax = sessionTime
  let touched = 0
  let only: UsageSegment | undefined
  const kept: Array<UsageSegment> = []
  for (const s of segments) {
    // Single-linkage on intervals: touching the hull within the tolerance means touching a member.
    const touches = s.anchored && start <= ms(s.lastEventAt) + toleranceMs && e >= ms(s.startFrom) - toleranceMs
    if (!touches) {
      kept.push(s)
      continue
    }
    touched++
    only = s
    from = from === undefined ? s.startFrom : earlier(from, s.startFrom)
    firstEv = earlier(firstEv, s.firstEventAt)
    lastEv = later(lastEv, s.lastEventAt)
    inMax = bigMax(inMax, s.inputBytes)
    outMax = bigMax(outMax, s.outputBytes)
    secMax = Math.max(secMax, s.sessionSeconds)
  }
  // Nothing new: inside the one segment it touches, counters not above its maxima.
  if (
    touched === 1 &&
    only !== undefined &&
    start >= ms(only.startFrom) &&
    e >= ms(only.firstEventAt) &&
    e <= ms(only.lastEventAt) &&
    inB <= only.inputBytes &&
    outB <= only.outputBytes &&
    sessionTime <= only.sessionSeconds
  ) {
    return segments
  }
  const startFrom = from === undefined || start < ms(from) ? utc(start) : from
  kept.push(
    instance(UsageSegment, {
      anchored: true,
      startFrom,
      firstEventAt: firstEv,
      lastEventAt: lastEv,
      inputBytes: inMax,
      outputBytes: outMax,
      sessionSeconds: secMax
    })
  )
  // Deterministic order (anchored by start, the floor last) so equal sets give equal states.
  return kept.length === 1
    ? kept
    : kept.sort((a, b) => (a.anchored !== b.anchored ? (a.anchored ? -1 : 1) : ms(a.startFrom) - ms(b.startFrom)))
}

const pick = <A>(newer: boolean, current: A | null, incoming: A | null): A | null =>
  newer ? (incoming ?? current) : (current ?? incoming)

/**
 * Folds one Start / Interim-Update / Stop into its session (or creates the session: a Stop or
 * Interim without a Start is fine). Returns the new state and the usage it added.
 *
 * Fails with `NotASessionRecord` for Accounting-On/Off (use {@link applyNasEvent}) and with
 * `SessionMismatch` if the record belongs to another session.
 */
export const applyRecord = (
  session: AccountingSession | undefined,
  record: AccountingRecord,
  options: FoldOptions = {}
): Either.Either<FoldResult, NotASessionRecord | SessionMismatch> => {
  if (record.statusType === "Accounting-On" || record.statusType === "Accounting-Off") {
    return Either.left(new NotASessionRecord({ statusType: record.statusType }))
  }
  if (session !== undefined && session.sessionId !== record.acctUniqueSessionId) {
    return Either.left(new SessionMismatch({ sessionId: session.sessionId, recordSessionId: record.acctUniqueSessionId }))
  }
  const toleranceMs = (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000
  const e = ms(record.eventTime)
  const segments = addToSegments(session?.segments ?? [], record, toleranceMs)
  if (
    session !== undefined &&
    segments === session.segments &&
    (record.statusType !== "Stop" ||
      (session.closeSource === "STOP" && session.stoppedAt !== null && e <= ms(session.stoppedAt)))
  ) {
    // A retransmit, duplicate or late lower record: nothing changes (the common hot path).
    const zero = instance(UsageDelta, {
      sessionId: session.sessionId,
      serviceId: session.serviceId,
      at: record.eventTime,
      bytesIn: 0n,
      bytesOut: 0n,
      sessionSeconds: 0
    })
    return Either.right({ session, delta: zero })
  }
  const before = session ?? { inputBytes: 0n, outputBytes: 0n, sessionSeconds: 0 }
  const after = totalsOf(segments)
  let startedAt = segments[0]!.startFrom
  for (const s of segments) startedAt = earlier(startedAt, s.startFrom)
  const newer = session === undefined || e >= ms(session.lastUpdateAt)

  // Status: a Stop is final; our own closes (NAS restart, stale) yield to later evidence of life.
  let status = session?.status ?? "OPEN"
  let stoppedAt = session?.stoppedAt ?? null
  let closeReason = session?.closeReason ?? null
  let closeSource: CloseSource | null = session?.closeSource ?? null
  if (record.statusType === "Stop") {
    const laterStop = closeSource !== "STOP" || stoppedAt === null || e >= ms(stoppedAt)
    status = "CLOSED"
    closeSource = "STOP"
    if (laterStop) {
      stoppedAt = record.eventTime
      closeReason = record.terminateCause ?? closeReason
    }
  } else if (status === "CLOSED" && closeSource !== "STOP" && stoppedAt !== null && e > ms(stoppedAt)) {
    status = "OPEN"
    stoppedAt = null
    closeReason = null
    closeSource = null
  }

  const next = instance(AccountingSession, {
    sessionId: record.acctUniqueSessionId,
    acctSessionId: session?.acctSessionId ?? record.acctSessionId,
    serviceId: session?.serviceId ?? options.serviceId ?? null,
    userName: pick(newer, session?.userName ?? null, record.userName),
    nasIpAddress: pick(newer, session?.nasIpAddress ?? null, record.nasIpAddress),
    nasIdentifier: pick(newer, session?.nasIdentifier ?? null, record.nasIdentifier),
    framedIpAddress: pick(newer, session?.framedIpAddress ?? null, record.framedIpAddress),
    callingStationId: pick(newer, session?.callingStationId ?? null, record.callingStationId),
    startedAt: session !== undefined && session.startedAt.epochMillis === startedAt.epochMillis ? session.startedAt : startedAt,
    lastUpdateAt: session && !newer ? session.lastUpdateAt : record.eventTime,
    stoppedAt,
    inputBytes: after.inputBytes,
    outputBytes: after.outputBytes,
    sessionSeconds: after.sessionSeconds,
    status,
    closeReason,
    closeSource,
    segments
  })
  const delta = instance(UsageDelta, {
    sessionId: next.sessionId,
    serviceId: next.serviceId,
    at: record.eventTime,
    bytesIn: after.inputBytes - before.inputBytes,
    bytesOut: after.outputBytes - before.outputBytes,
    sessionSeconds: after.sessionSeconds - before.sessionSeconds
  })
  return Either.right({ session: next, delta })
}

/**
 * Folds a list of one session's records from scratch, in the given order. Returns the final state
 * and every delta. Records of other sessions or NAS events are rejected as in {@link applyRecord}.
 */
export const replay = (
  records: Iterable<AccountingRecord>,
  options: FoldOptions = {}
): Either.Either<
  { readonly session: AccountingSession | undefined; readonly deltas: ReadonlyArray<UsageDelta> },
  NotASessionRecord | SessionMismatch
> => {
  let session: AccountingSession | undefined
  const deltas: Array<UsageDelta> = []
  for (const r of records) {
    const res = applyRecord(session, r, options)
    if (Either.isLeft(res)) return Either.left(res.left)
    session = res.right.session
    deltas.push(res.right.delta)
  }
  return Either.right({ session, deltas })
}

/** Identifies a NAS by the attributes present; a session matches when every compared one is equal. */
export interface NasKey {
  readonly nasIpAddress: string | null
  readonly nasIdentifier: string | null
}

const sameNas = (s: AccountingSession, nas: NasKey): boolean => {
  let compared = 0
  if (nas.nasIpAddress !== null && s.nasIpAddress !== null) {
    if (nas.nasIpAddress !== s.nasIpAddress) return false
    compared++
  }
  if (nas.nasIdentifier !== null && s.nasIdentifier !== null) {
    if (nas.nasIdentifier !== s.nasIdentifier) return false
    compared++
  }
  return compared > 0
}

const close = (s: AccountingSession, at: DateTime.Utc, source: CloseSource, reason: string) =>
  instance(AccountingSession, { ...s, status: "CLOSED", stoppedAt: at, closeSource: source, closeReason: reason })

/**
 * Closes the OPEN sessions of one NAS that were last updated at or before `at` (sessions updated
 * later were started after the NAS came back). Returns only the sessions it closed, updated.
 */
export const closeNasSessions = (
  sessions: Iterable<AccountingSession>,
  nas: NasKey,
  at: DateTime.Utc,
  reason = "NAS-Reboot"
): ReadonlyArray<AccountingSession> => {
  const closed: Array<AccountingSession> = []
  for (const s of sessions) {
    if (s.status === "OPEN" && sameNas(s, nas) && ms(s.lastUpdateAt) <= ms(at)) {
      closed.push(close(s, at, "NAS_RESTART", reason))
    }
  }
  return closed
}

/**
 * Applies an Accounting-On (the NAS restarted) or Accounting-Off (it is going down): both mean
 * every session the NAS had open is over. Returns the sessions closed; usage does not change.
 * Any other status type closes nothing.
 */
export const applyNasEvent = (
  sessions: Iterable<AccountingSession>,
  record: AccountingRecord
): ReadonlyArray<AccountingSession> =>
  record.statusType === "Accounting-On" || record.statusType === "Accounting-Off"
    ? closeNasSessions(
        sessions,
        record,
        record.eventTime,
        record.statusType === "Accounting-On" ? "NAS-Reboot" : "NAS-Request"
      )
    : []

/**
 * Closes OPEN sessions with no update for more than `n × intervalSeconds` before `now` (the NAS
 * or the subscriber vanished without a Stop). `stoppedAt` is the last update — the last moment the
 * session was known alive. A later record reopens it. Returns only the sessions it closed.
 */
export const closeStale = (
  sessions: Iterable<AccountingSession>,
  now: DateTime.Utc,
  intervalSeconds: number,
  n: number
): ReadonlyArray<AccountingSession> => {
  const cutoff = ms(now) - intervalSeconds * n * 1000
  const closed: Array<AccountingSession> = []
  for (const s of sessions) {
    if (s.status === "OPEN" && ms(s.lastUpdateAt) < cutoff) closed.push(close(s, s.lastUpdateAt, "STALE", "Stale"))
  }
  return closed
}
