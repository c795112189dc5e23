/**
 * ServiceUsageTracking — the data of accounting: decoded Accounting-Requests, the per-session state
 * they fold into, and per-period usage buckets. The folding rules live in `usage/` (see
 * docs/usage-model.md).
 *
 * JSON encoding: every byte count is a 64-bit `bigint`, encoded as a decimal string
 * (`"5368709120"`), so no JSON number ever loses precision above 2^53. Instants are ISO-8601 UTC.
 *
 * @since 0.1.0
 */
import { HttpApiSchema } from "@effect/platform"
import { DateTime, Option, Schema } from "effect"
import * as Crypto from "node:crypto"
import { BillingPeriod } from "./Enums.js"
import { ServiceId } from "./Ids.js"

// ---------------------------------------------------------------------------------------------
// Small schemas
// ---------------------------------------------------------------------------------------------

/** A 32-bit RADIUS integer (Acct-Input-Octets and friends). */
const Uint32 = Schema.Int.pipe(Schema.between(0, 4_294_967_295))
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative())

/** A 64-bit byte count (may be negative only in a {@link UsageDelta}); JSON: decimal string. */
export const ByteCount = Schema.BigInt
/** A non-negative 64-bit byte count; JSON: decimal string. */
export const NonNegativeBytes = Schema.BigInt.pipe(Schema.greaterThanOrEqualToBigInt(0n))

/** An IANA time-zone name the runtime knows (e.g. "Europe/Berlin"). */
export const TimeZoneName = Schema.String.pipe(
  Schema.filter((s) => Option.isSome(DateTime.zoneMakeNamed(s)), {
    message: () => "an IANA time zone name such as Europe/Berlin"
  }),
  Schema.brand("TimeZoneName")
)
export type TimeZoneName = typeof TimeZoneName.Type

/** A local calendar date "YYYY-MM-DD". */
export const LocalDate = Schema.String.pipe(
  Schema.pattern(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: () => "a date YYYY-MM-DD" })
)

/** Acct-Status-Type values we handle. */
export const AcctStatusType = Schema.Literal("Start", "Interim-Update", "Stop", "Accounting-On", "Accounting-Off")
export type AcctStatusType = typeof AcctStatusType.Type

/** Bucket sizes of per-period usage. PERIOD is the service's billing period (see {@link BillingCycle}). */
export const UsageGranularity = Schema.Literal("HOUR", "DAY", "PERIOD")
export type UsageGranularity = typeof UsageGranularity.Type

export const SessionStatus = Schema.Literal("OPEN", "CLOSED")
export type SessionStatus = typeof SessionStatus.Type

/**
 * Who closed a session: a Stop from the NAS (final), Accounting-On/Off from the NAS (a reboot
 * closes everything it had open), or our stale-session sweep. Only STOP is final; the other two
 * are reopened by a record with a later event time (the session was evidently still alive).
 */
export const CloseSource = Schema.Literal("STOP", "NAS_RESTART", "STALE")
export type CloseSource = typeof CloseSource.Type

// ---------------------------------------------------------------------------------------------
// AccountingRecord
// ---------------------------------------------------------------------------------------------

const recordFields = {
  statusType: AcctStatusType,
  /** Acct-Session-Id (empty for Accounting-On/Off, which carry none). */
  acctSessionId: Schema.String,
  userName: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  nasIpAddress: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  nasIdentifier: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  nasPortId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  nasPort: Schema.optionalWith(Schema.NullOr(NonNegativeInt), { default: () => null }),
  framedIpAddress: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Calling-Station-Id: the subscriber's MAC for IPoE / PPPoE. */
  callingStationId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Acct-Input-Octets: bytes the NAS received from the subscriber (upload), modulo 2^32. */
  inputOctets: Schema.optionalWith(Uint32, { default: () => 0 }),
  /** Acct-Output-Octets: bytes the NAS sent to the subscriber (download), modulo 2^32. */
  outputOctets: Schema.optionalWith(Uint32, { default: () => 0 }),
  inputGigawords: Schema.optionalWith(Uint32, { default: () => 0 }),
  outputGigawords: Schema.optionalWith(Uint32, { default: () => 0 }),
  inputPackets: Schema.optionalWith(Schema.NullOr(Uint32), { default: () => null }),
  outputPackets: Schema.optionalWith(Schema.NullOr(Uint32), { default: () => null }),
  /** Acct-Session-Time in seconds; null when the NAS did not send it. */
  sessionTime: Schema.optionalWith(Schema.NullOr(NonNegativeInt), { default: () => null }),
  /**
   * When the NAS produced the record: Event-Timestamp if present, else the receive time minus
   * Acct-Delay-Time (the ingest computes this).
   */
  eventTime: Schema.DateTimeUtc,
  /** Acct-Terminate-Cause, e.g. "User-Request", "Lost-Carrier", "NAS-Reboot". */
  terminateCause: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Acct-Delay-Time in seconds. */
  delayTime: Schema.optionalWith(NonNegativeInt, { default: () => 0 })
}

/**
 * A decoded Accounting-Request. `acctUniqueSessionId` is the session key: the NAS's
 * Acct-Unique-Session-Id if it sent one, else computed as FreeRADIUS's `acct_unique` policy does
 * (see {@link freeRadiusUniqueSessionId}) — build records with {@link makeAccountingRecord} to get that.
 */
export class AccountingRecord extends Schema.Class<AccountingRecord>("AccountingRecord")({
  ...recordFields,
  acctUniqueSessionId: Schema.String
}) {
  /** Acct-Input-Octets with Acct-Input-Gigawords folded in: the full 64-bit upload counter. */
  get inputBytes(): bigint {
    // Gigawords are zero for nearly every record: one BigInt instead of three.
    return this.inputGigawords === 0
      ? BigInt(this.inputOctets)
      : BigInt(this.inputGigawords) * 4_294_967_296n + BigInt(this.inputOctets)
  }
  /** Acct-Output-Octets with Acct-Output-Gigawords folded in: the full 64-bit download counter. */
  get outputBytes(): bigint {
    return this.outputGigawords === 0
      ? BigInt(this.outputOctets)
      : BigInt(this.outputGigawords) * 4_294_967_296n + BigInt(this.outputOctets)
  }
}

/** The fields of an {@link AccountingRecord} with `acctUniqueSessionId` optional. */
export const AccountingRecordInput = Schema.Struct({
  ...recordFields,
  acctUniqueSessionId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
export type AccountingRecordInput = typeof AccountingRecordInput.Type

/**
 * FreeRADIUS 3's `acct_unique` hash (policy.d/accounting, the branch without a Class attribute):
 * `md5("User-Name,Acct-Session-Id,NAS-IP-Address,NAS-Identifier,NAS-Port-Id,NAS-Port")`, absent
 * attributes as empty strings, lower-case hex. Using the same id keeps our sessions joinable with
 * an operator's `radacct.acctuniqueid`.
 */
export const freeRadiusUniqueSessionId = (r: {
  readonly userName?: string | null | undefined
  readonly acctSessionId: string
  readonly nasIpAddress?: string | null | undefined
  readonly nasIdentifier?: string | null | undefined
  readonly nasPortId?: string | null | undefined
  readonly nasPort?: number | null | undefined
}): string =>
  md5Hex(`${r.userName ?? ""},${r.acctSessionId},${r.nasIpAddress ?? ""},${r.nasIdentifier ?? ""},${r.nasPortId ?? ""},${r.nasPort ?? ""}`)

// Once per accounting packet: the one-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as a Hash object.
const md5Hex: (text: string) => string = typeof Crypto.hash === "function"
  ? (text) => Crypto.hash("md5", text, "hex")
  : (text) => Crypto.createHash("md5").update(text, "utf8").digest("hex")

/** Builds a record from already-typed fields, computing `acctUniqueSessionId` when it is absent. */
export const makeAccountingRecord = (
  input: Omit<ConstructorParameters<typeof AccountingRecord>[0], "acctUniqueSessionId"> & {
    readonly acctUniqueSessionId?: string | null | undefined
  }
): AccountingRecord => {
  const id = input.acctUniqueSessionId ?? freeRadiusUniqueSessionId(input)
  // Hot path of the ingest: a hand-written check as strict as the schema's lets valid input skip the
  // generic validator (most of the constructor's cost) and the object copies; anything doubtful takes
  // the validating path, which throws the usual ParseError.
  const trusted = typeof id === "string" ? trustedRecord(input, id) : null
  if (trusted !== null) return trusted
  const { acctUniqueSessionId: _given, ...rest } = input
  return new AccountingRecord({ ...rest, acctUniqueSessionId: id })
}

const STATUS_TYPES: ReadonlySet<unknown> = new Set(AcctStatusType.literals)
const isNullStr = (v: unknown) => v === null || typeof v === "string"
const isNonNegInt = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0
const isU32 = (v: unknown) => isNonNegInt(v) && (v as number) <= 4_294_967_295
const isNullU32 = (v: unknown) => v === null || isU32(v)
const isNullNonNegInt = (v: unknown) => v === null || isNonNegInt(v)

/**
 * What `new AccountingRecord(props, true)` builds (own fields, defaults filled, the class prototype),
 * or null when `p` might not pass the constructor's validation (same rules as `recordFields`). Each
 * field is read once: this runs once per accounting packet, and the generic validator and default
 * walk cost more than the whole fold. Unknown keys are dropped, as the validating constructor drops them.
 */
const trustedRecord = (p: Record<string, any>, acctUniqueSessionId: string): AccountingRecord | null => {
  const statusType = p["statusType"]
  const acctSessionId = p["acctSessionId"]
  const userName = p["userName"] ?? null
  const nasIpAddress = p["nasIpAddress"] ?? null
  const nasIdentifier = p["nasIdentifier"] ?? null
  const nasPortId = p["nasPortId"] ?? null
  const nasPort = p["nasPort"] ?? null
  const framedIpAddress = p["framedIpAddress"] ?? null
  const callingStationId = p["callingStationId"] ?? null
  const inputOctets = p["inputOctets"]
  const outputOctets = p["outputOctets"]
  const inputGigawords = p["inputGigawords"]
  const outputGigawords = p["outputGigawords"]
  const inputPackets = p["inputPackets"] ?? null
  const outputPackets = p["outputPackets"] ?? null
  const sessionTime = p["sessionTime"] ?? null
  const eventTime = p["eventTime"]
  const terminateCause = p["terminateCause"] ?? null
  const delayTime = p["delayTime"]
  // Fields defaulting to a number take undefined (the default) but not null, as in the schema.
  const valid = STATUS_TYPES.has(statusType) && typeof acctSessionId === "string" &&
    isNullStr(userName) && isNullStr(nasIpAddress) && isNullStr(nasIdentifier) && isNullStr(nasPortId) &&
    isNullStr(framedIpAddress) && isNullStr(callingStationId) && isNullStr(terminateCause) &&
    isNullNonNegInt(nasPort) && isNullNonNegInt(sessionTime) &&
    (delayTime === undefined || isNonNegInt(delayTime)) &&
    (inputOctets === undefined || isU32(inputOctets)) && (outputOctets === undefined || isU32(outputOctets)) &&
    (inputGigawords === undefined || isU32(inputGigawords)) && (outputGigawords === undefined || isU32(outputGigawords)) &&
    isNullU32(inputPackets) && isNullU32(outputPackets) &&
    DateTime.isDateTime(eventTime) && DateTime.isUtc(eventTime as DateTime.DateTime)
  if (!valid) return null
  // One literal with every field, then the class prototype: the object keeps all twenty fields in
  // itself. (Object.create then assignment grew an out-of-object property store several times over:
  // ~0.8 KB of garbage per packet.)
  const r = {
    statusType,
    acctSessionId,
    userName,
    nasIpAddress,
    nasIdentifier,
    nasPortId,
    nasPort,
    framedIpAddress,
    callingStationId,
    inputOctets: inputOctets ?? 0,
    outputOctets: outputOctets ?? 0,
    inputGigawords: inputGigawords ?? 0,
    outputGigawords: outputGigawords ?? 0,
    inputPackets,
    outputPackets,
    sessionTime,
    eventTime,
    terminateCause,
    delayTime: delayTime ?? 0,
    acctUniqueSessionId
  }
  return Object.setPrototypeOf(r, AccountingRecord.prototype) as AccountingRecord
}

/** Decodes unknown input (e.g. JSON) into an {@link AccountingRecord}, computing the unique id if absent. */
export const AccountingRecordFromInput: Schema.Schema<AccountingRecord, Schema.Schema.Encoded<typeof AccountingRecordInput>> =
  Schema.transform(AccountingRecordInput, Schema.typeSchema(AccountingRecord), {
    strict: true,
    decode: (i) =>
      new AccountingRecord({ ...i, acctUniqueSessionId: i.acctUniqueSessionId ?? freeRadiusUniqueSessionId(i) }),
    encode: (r) => ({ ...r, acctUniqueSessionId: r.acctUniqueSessionId })
  })

// ---------------------------------------------------------------------------------------------
// AccountingSession
// ---------------------------------------------------------------------------------------------

/**
 * One run of the NAS's counters inside a session. A NAS reboot that keeps the session id restarts
 * the counters (and Acct-Session-Time) from zero: that is a new segment, and the session's usage is
 * the sum over its segments of each segment's highest counters.
 *
 * A record covers the interval [eventTime − sessionTime, eventTime]; records whose intervals
 * overlap (within the fold's tolerance) belong to the same segment, whose hull is
 * [startFrom, lastEventAt]. `anchored` is false for the one segment that collects records without
 * Acct-Session-Time (those cannot be placed in time, so they only ever raise a floor).
 */
export class UsageSegment extends Schema.Class<UsageSegment>("UsageSegment")({
  anchored: Schema.Boolean,
  startFrom: Schema.DateTimeUtc,
  firstEventAt: Schema.DateTimeUtc,
  lastEventAt: Schema.DateTimeUtc,
  /** Highest 64-bit input counter seen in this segment. */
  inputBytes: NonNegativeBytes,
  outputBytes: NonNegativeBytes,
  /** Highest Acct-Session-Time seen (for unanchored segments: last − first event time). */
  sessionSeconds: NonNegativeInt
}) {}

/**
 * The state of one accounting session, keyed by its unique session id. Usage totals are derived
 * from the segments, so they are a function of the *set* of records seen, not of their order.
 */
export class AccountingSession extends Schema.Class<AccountingSession>("AccountingSession")({
  /** Acct-Unique-Session-Id (or its FreeRADIUS-compatible hash). */
  sessionId: Schema.String,
  acctSessionId: Schema.String,
  /** The service the ingest mapped the session to; null while unmapped. */
  serviceId: Schema.NullOr(ServiceId),
  userName: Schema.NullOr(Schema.String),
  nasIpAddress: Schema.NullOr(Schema.String),
  nasIdentifier: Schema.NullOr(Schema.String),
  framedIpAddress: Schema.NullOr(Schema.String),
  callingStationId: Schema.NullOr(Schema.String),
  startedAt: Schema.DateTimeUtc,
  lastUpdateAt: Schema.DateTimeUtc,
  stoppedAt: Schema.NullOr(Schema.DateTimeUtc),
  /** Sum over segments of the highest input counter (subscriber upload). */
  inputBytes: NonNegativeBytes,
  /** Sum over segments of the highest output counter (subscriber download). */
  outputBytes: NonNegativeBytes,
  sessionSeconds: NonNegativeInt,
  status: SessionStatus,
  /** Acct-Terminate-Cause of the Stop, or "NAS-Reboot" / "Stale" for closes we inferred. */
  closeReason: Schema.NullOr(Schema.String),
  closeSource: Schema.NullOr(CloseSource),
  segments: Schema.Array(UsageSegment)
}) {}

/**
 * What one record added to a session's usage, attributed to the record's event time. Summed over
 * all records of a session, in any delivery order, the deltas equal the session's final totals.
 * A delta is never negative except when a late record proves two segments were one (see
 * docs/usage-model.md); the sum stays exact.
 */
export class UsageDelta extends Schema.Class<UsageDelta>("UsageDelta")({
  sessionId: Schema.String,
  serviceId: Schema.NullOr(ServiceId),
  at: Schema.DateTimeUtc,
  bytesIn: ByteCount,
  bytesOut: ByteCount,
  sessionSeconds: Schema.Int
}) {
  get isZero(): boolean {
    return this.bytesIn === 0n && this.bytesOut === 0n && this.sessionSeconds === 0
  }
}

// ---------------------------------------------------------------------------------------------
// Periods and buckets
// ---------------------------------------------------------------------------------------------

/**
 * How a service's billing periods fall: the operator's time zone, the period length, and the
 * anniversary `anchorDate` (usually the activation date, local). MONTHLY/QUARTERLY/YEARLY periods
 * start at local midnight on the anchor's day of month — clamped to the month's last day, so an
 * anchor on the 31st bills on Feb 28/29, Apr 30, and the 31st again where it exists. WEEKLY periods
 * start on the anchor's weekday; DAILY at every local midnight.
 */
export class BillingCycle extends Schema.Class<BillingCycle>("BillingCycle")({
  timeZone: TimeZoneName,
  period: BillingPeriod,
  anchorDate: LocalDate
}) {}

/** Usage of one service in one bucket, summed over all its sessions. `bytesIn` = upload, `bytesOut` = download. */
export class UsageBucket extends Schema.Class<UsageBucket>("UsageBucket")({
  serviceId: ServiceId,
  granularity: UsageGranularity,
  periodStart: Schema.DateTimeUtc,
  periodEnd: Schema.DateTimeUtc,
  bytesIn: ByteCount,
  bytesOut: ByteCount,
  sessionSeconds: Schema.Int
}) {}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Accounting-On/Off carry no session: they go to `SessionFold.applyNasEvent`, not `applyRecord`. */
export class NotASessionRecord extends Schema.TaggedError<NotASessionRecord>()(
  "NotASessionRecord",
  { statusType: AcctStatusType },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `${this.statusType} is a NAS event, not a session record`
  }
}

/** A record folded into the state of another session (a caller bug: sessions are keyed by unique id). */
export class SessionMismatch extends Schema.TaggedError<SessionMismatch>()(
  "SessionMismatch",
  { sessionId: Schema.String, recordSessionId: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {
  override get message() {
    return `Record of session ${this.recordSessionId} cannot be applied to session ${this.sessionId}`
  }
}

/** A FUP policy whose tiers are not a slowing ladder (duplicate thresholds, or a later tier faster). */
export class InvalidFupPolicy extends Schema.TaggedError<InvalidFupPolicy>()(
  "InvalidFupPolicy",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Invalid FUP policy: ${this.reason}`
  }
}

/** A counter outside the 64-bit range RADIUS can express (octets ≥ 2^32 or negative). */
export class InvalidCounter extends Schema.TaggedError<InvalidCounter>()(
  "InvalidCounter",
  { field: Schema.String, value: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  override get message() {
    return `Counter ${this.field} out of range: ${this.value}`
  }
}
