/**
 * PostgreSQL {@link IpAllocator}: correct under any concurrency, with any number of app instances on
 * one database, at a cost that does not grow with the pool's size (design: docs/ip-pools.md).
 *
 * - Claim: one statement, `isp_ip_claim` (migration 0003): the service's live assignment if any
 *   (idempotent allocate), else its or its MAC's previous slot (sticky), else the first claimable free
 *   row, taken with `FOR UPDATE SKIP LOCKED`, deleted and turned into an assignment. Concurrent
 *   allocations of one instance are batched into `isp_ip_claim_many` (one round trip, one commit).
 * - Free rows are materialised lazily, one block of slots at a time, under a short lock on the
 *   pool's cursor row: ahead of time (a background top-up) and, as the backstop, when none is left.
 * - The partial unique indexes on live assignments are the last line of defence.
 * - Exhaustion is declared from one snapshot in which no claimable row is visible (rows locked by
 *   in-flight claims still are) and no block is left; rows merely skipped as locked lead to a retry,
 *   which waits for the locks after three tries.
 *
 * @since 0.1.0
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import {
  AddressInUse,
  type AllocateRequest,
  type AllocateStaticRequest,
  AssignmentNotFound,
  type Binding,
  IpAllocator,
  IpAssignment,
  IpPool,
  type NewIpPoolInput,
  PoolConfig,
  PoolExhausted,
  PoolNotFound,
  PoolOverlap,
  PoolSpace,
  PoolUtilisation,
  type ReleaseTarget,
  Conflict,
  type PoolId,
  type ServiceId,
  uuidv7
} from "@isp-framework/core"
import { Chunk, DateTime, Deferred, Effect, Layer, Queue, Schema } from "effect"
import { decodeRow, orDieSql } from "../internal/rows.js"

/** Slots materialised per block. */
export const BLOCK_SIZE = 256
/** Most allocations claimed by one statement: 16 measured better than 32 (two batches run in parallel). */
const MAX_BATCH = 16
/** Batches in flight at once per instance (keeps several connections busy; PostgreSQL groups the commits). */
const BATCH_WORKERS = 4

const pgCode = (e: SqlError): string | undefined => (e.cause as { code?: string } | undefined)?.code
const pgConstraint = (e: SqlError): string => {
  const c = (e.cause ?? {}) as { constraint?: string; message?: string }
  return c.constraint ?? c.message ?? ""
}
const isSqlError = (u: unknown): u is SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

const bindingColumns = (binding: Binding | undefined) => ({
  bindingType: binding?._tag ?? "NONE",
  macAddress: binding?._tag === "DHCP" ? binding.macAddress.toLowerCase() : null,
  username: binding?._tag === "PPPOE" ? binding.username : null
})

type EnsureOutcome = "missing" | "busy" | "hasFree" | "added" | "none"

/**
 * Builds the allocator over the ambient `SqlClient` (PostgreSQL or PGlite, camel/snake transforms on).
 *
 * @since 0.1.0
 */
export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Hot path (every allocation): build the model straight from the typed row instead of running the
  // Schema decoder; the columns are NOT NULL / typed by the migration, so validation adds nothing.
  const utc = (value: unknown) => (value === null || value === undefined ? null : DateTime.unsafeMake(value as Date))
  const decodeAssignment = (row: Record<string, unknown>): IpAssignment =>
    IpAssignment.make({
      id: row["id"] as IpAssignment["id"],
      serviceId: row["serviceId"] as IpAssignment["serviceId"],
      customerId: row["customerId"] as IpAssignment["customerId"],
      poolId: row["poolId"] as IpAssignment["poolId"],
      address: row["address"] as string,
      family: Number(row["family"]) as IpAssignment["family"],
      assignmentType: row["assignmentType"] as IpAssignment["assignmentType"],
      bindingType: row["bindingType"] as IpAssignment["bindingType"],
      macAddress: (row["macAddress"] ?? null) as string | null,
      username: (row["username"] ?? null) as string | null,
      gateway: (row["gateway"] ?? null) as string | null,
      dnsServers: (row["dnsServers"] ?? []) as ReadonlyArray<string>,
      assignedAt: utc(row["assignedAt"])!,
      releasedAt: utc(row["releasedAt"]),
      quarantineUntil: utc(row["quarantineUntil"])
    }, true)
  const decodePool = decodeRow(IpPool)
  const encodePool = Schema.encodeSync(IpPool)
  // Pools are immutable once created, so a per-instance cache is always right.
  const cache = new Map<string, { readonly pool: IpPool; readonly space: PoolSpace.PoolSpace }>()

  const loadPool = (poolId: PoolId) =>
    Effect.suspend(() => {
      const hit = cache.get(poolId)
      if (hit !== undefined) return Effect.succeed(hit)
      return orDieSql(sql`SELECT * FROM ip_pools WHERE id = ${poolId}`).pipe(
        Effect.flatMap((rows) => {
          if (rows[0] === undefined) return Effect.fail(new PoolNotFound({ poolId }))
          const pool = decodePool(rows[0])
          const entry = { pool, space: PoolConfig.spaceOf(pool) }
          cache.set(poolId, entry)
          return Effect.succeed(entry)
        })
      )
    })

  const createPool = Effect.fn("IpAllocator.createPool")(function*(input: NewIpPoolInput) {
    const { pool, space } = yield* PoolConfig.buildPool(input, uuidv7(Date.now()) as PoolId, yield* DateTime.now)
    const overlapping = sql<{ id: string; cidr: string }>`
      SELECT id, cidr FROM ip_pools WHERE network && ${pool.cidr}::cidr ORDER BY network LIMIT 1`
    const overlapError = Effect.flatMap(overlapping, (rows) =>
      Effect.fail(new PoolOverlap({ cidr: pool.cidr, existingPoolId: rows[0]?.id ?? "", existingCidr: rows[0]?.cidr ?? "" })))
    const encoded = encodePool(pool)
    const insert = sql.withTransaction(Effect.gen(function*() {
      if ((yield* overlapping).length > 0) return yield* overlapError
      yield* sql`INSERT INTO ip_pools ${
        sql.insert({
          ...encoded,
          network: pool.cidr,
          dnsServers: JSON.stringify(encoded.dnsServers),
          excludedAddresses: JSON.stringify(encoded.excludedAddresses),
          excludedRanges: JSON.stringify(encoded.excludedRanges)
        })
      }`
      yield* sql`INSERT INTO ip_pool_cursors ${
        sql.insert({
          poolId: pool.id,
          nextBlock: "0",
          blockCount: PoolSpace.blockCount(space, BLOCK_SIZE).toString()
        })
      }`
    }))
    // Two instances racing past the check: the exclusion constraint rejects the second.
    yield* insert.pipe(
      Effect.catchIf(
        (e): e is SqlError => isSqlError(e) && pgCode(e) === "23P01",
        () => overlapError
      ),
      orDieSql
    )
    cache.set(pool.id, { pool, space })
    return pool
  })

  const getPool = Effect.fn("IpAllocator.getPool")(function*(poolId: PoolId) {
    return (yield* loadPool(poolId)).pool
  })

  const listPools = Effect.fn("IpAllocator.listPools")(function*() {
    const rows = yield* orDieSql(sql`SELECT * FROM ip_pools ORDER BY family, network`)
    return rows.map(decodePool)
  })

  /** The claim: one call of `isp_ip_claim` (migration 0003), i.e. one statement. */
  const claim = (request: AllocateRequest, id: string, wait: boolean) => {
    const b = bindingColumns(request.binding)
    return sql<Record<string, unknown>>`
      SELECT * FROM isp_ip_claim(${request.poolId}, ${request.serviceId}, ${request.customerId}, ${id},
        ${b.bindingType}, ${b.macAddress}, ${b.username}, ${request.sticky !== false}, ${wait})`
  }

  // Batching: concurrent allocations of this instance are claimed together, one `isp_ip_claim_many`
  // statement (one transaction, one commit) per batch; a few batches are in flight at once.
  interface Pending {
    readonly request: AllocateRequest
    readonly id: string
    readonly deferred: Deferred.Deferred<Record<string, unknown> | null, SqlError>
  }
  const queue = yield* Effect.acquireRelease(Queue.unbounded<Pending>(), Queue.shutdown)
  const keyOf = (poolId: string, serviceId: string) => `${poolId}/${serviceId}`
  const claimBatch = (items: ReadonlyArray<Pending>) =>
    Effect.gen(function*() {
      const payload = items.map(({ id, request }) => ({
        id,
        poolId: request.poolId,
        serviceId: request.serviceId,
        customerId: request.customerId,
        sticky: request.sticky !== false,
        ...bindingColumns(request.binding)
      }))
      const result = yield* Effect.either(
        sql<Record<string, unknown>>`SELECT * FROM isp_ip_claim_many(${JSON.stringify(payload)}::jsonb)`
      )
      if (result._tag === "Left") {
        // One item failed (e.g. a unique race on its service) and took the batch with it: claim one by one.
        yield* Effect.forEach(items, (item) =>
          Deferred.complete(item.deferred, Effect.map(claim(item.request, item.id, false), (rows) => rows[0] ?? null)),
          { concurrency: "unbounded", discard: true })
        return
      }
      const byKey = new Map(result.right.map((row) => [keyOf(String(row["poolId"]), String(row["serviceId"])), row]))
      for (const item of items) {
        yield* Deferred.succeed(item.deferred, byKey.get(keyOf(item.request.poolId, item.request.serviceId)) ?? null)
      }
    })
  for (let i = 0; i < BATCH_WORKERS; i++) {
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, MAX_BATCH), (chunk) => {
        const items = Chunk.toReadonlyArray(chunk)
        // Whatever happens to a batch, its callers get an answer and the worker lives on.
        return claimBatch(items).pipe(
          Effect.catchAllCause((cause) => Effect.forEach(items, (item) => Deferred.failCause(item.deferred, cause)))
        )
      }))
    )
  }
  const claimBatched = (request: AllocateRequest, id: string) =>
    Effect.flatMap(Deferred.make<Record<string, unknown> | null, SqlError>(), (deferred) =>
      Effect.zipRight(Queue.offer(queue, { request, id, deferred }), Deferred.await(deferred)))

  const claimable = (poolId: PoolId) =>
    sql`SELECT 1 FROM ip_pool_free WHERE pool_id = ${poolId} AND available_at <= now() LIMIT 1`

  // Per-instance hint: the slot from which a claim should top the free list up ahead of time, so the
  // allocators do not all stall on an empty list at every block boundary. Only a hint: with several
  // instances it may be stale, and the on-empty path below stays the correctness backstop.
  const topUpFrom = new Map<string, bigint>()

  /** Under the cursor lock: adds the next non-empty block(s) until something is claimable. */
  const materialise = (poolId: PoolId, nextBlock: bigint) =>
    Effect.gen(function*() {
      const { space } = yield* Effect.orDie(loadPool(poolId))
      let next = nextBlock
      for (;;) {
        const block = PoolSpace.nextNonEmptyBlock(space, next, BLOCK_SIZE)
        if (block === null) {
          yield* sql`UPDATE ip_pool_cursors SET next_block = block_count WHERE pool_id = ${poolId}`
          topUpFrom.delete(poolId)
          return "none" as const
        }
        const slots = PoolSpace.blockSlots(space, block, BLOCK_SIZE)
        // Two array parameters (addresses and slot numbers contain no quotes, commas or braces), and
        // slots already held statically (taken before their block existed) are left out.
        yield* sql`
          INSERT INTO ip_pool_free (pool_id, slot, address, available_at)
          SELECT ${poolId}, u.slot, u.address, '-infinity'
          FROM unnest(${`{${slots.join(",")}}`}::numeric[], ${`{${slots.map((slot) => PoolSpace.formatSlot(space, slot)).join(",")}}`}::text[])
            AS u(slot, address)
          WHERE NOT EXISTS (
            SELECT 1 FROM ip_assignments a WHERE a.slot = u.slot AND a.pool_id = ${poolId} AND a.released_at IS NULL)
          ON CONFLICT DO NOTHING`
        next = block + 1n
        yield* sql`UPDATE ip_pool_cursors SET next_block = ${next.toString()} WHERE pool_id = ${poolId}`
        topUpFrom.set(poolId, block * BigInt(BLOCK_SIZE) + BigInt(BLOCK_SIZE / 2))
        if ((yield* claimable(poolId)).length > 0) return "added" as const
      }
    })

  const lockCursor = (poolId: PoolId) =>
    sql<{ nextBlock: string }>`SELECT next_block FROM ip_pool_cursors WHERE pool_id = ${poolId} FOR UPDATE SKIP LOCKED`

  /**
   * Called when a claim found nothing. First one plain read, one snapshot: rows still claimable
   * (locked ones count: an uncommitted claim's row is still visible) -> "hasFree", we merely skipped
   * locked rows; nothing claimable and every block materialised -> "none": exhausted at that instant.
   * Otherwise, under the pool's cursor lock taken with SKIP LOCKED ("busy" when another allocator is
   * adding a block right now), check again and materialise the next non-empty block.
   */
  const ensureBlock = (poolId: PoolId): Effect.Effect<EnsureOutcome, SqlError> =>
    Effect.gen(function*() {
      const [state] = yield* sql<{ done: boolean; has: boolean }>`
        SELECT c.next_block >= c.block_count AS done,
          EXISTS (SELECT 1 FROM ip_pool_free f WHERE f.pool_id = c.pool_id AND f.available_at <= now()) AS has
        FROM ip_pool_cursors c WHERE c.pool_id = ${poolId}`
      if (state === undefined) return "missing" as const
      if (state.has) return "hasFree" as const
      if (state.done) return "none" as const
      return yield* sql.withTransaction(Effect.gen(function*() {
        const [cursor] = yield* lockCursor(poolId)
        if (cursor === undefined) return "busy" as const
        if ((yield* claimable(poolId)).length > 0) return "hasFree" as const
        return yield* materialise(poolId, BigInt(cursor.nextBlock))
      }))
    })

  /** Adds the next block early when fewer than half a block is claimable; skipped if someone else is at it. */
  const topUp = (poolId: PoolId) =>
    sql.withTransaction(Effect.gen(function*() {
      const [cursor] = yield* lockCursor(poolId)
      if (cursor === undefined) return
      const [row] = yield* sql<{ n: string }>`
        SELECT count(*) AS n FROM (
          SELECT 1 FROM ip_pool_free WHERE pool_id = ${poolId} AND available_at <= now() LIMIT ${BLOCK_SIZE / 2}) f`
      if (Number(row!.n) < BLOCK_SIZE / 2) yield* materialise(poolId, BigInt(cursor.nextBlock))
    })).pipe(Effect.catchAllCause(() => Effect.void))

  const scope = yield* Effect.scope
  const maybeTopUp = (row: Record<string, unknown>) =>
    Effect.suspend(() => {
      const poolId = String(row["poolId"]) as PoolId
      const from = topUpFrom.get(poolId)
      if (from === undefined || BigInt(String(row["slot"])) < from) return Effect.void
      topUpFrom.delete(poolId) // one top-up per block and instance
      return Effect.asVoid(Effect.forkIn(topUp(poolId), scope))
    })

  const allocate = Effect.fn("IpAllocator.allocate")(function*(request: AllocateRequest) {
    const id = uuidv7(Date.now())
    let wait = false
    let skipped = 0
    for (let attempt = 0;; attempt++) {
      const row = yield* (attempt === 0 ? claimBatched(request, id) : claim(request, id, wait).pipe(Effect.map((rows) => rows[0] ?? null))).pipe(
        // Another instance allocated for the same service at the same moment: the next claim returns it.
        Effect.catchIf((e) => pgCode(e) === "23505" && attempt < 20, () => Effect.succeed(null)),
        orDieSql
      )
      if (row !== null) {
        yield* maybeTopUp(row)
        return decodeAssignment(row)
      }
      const outcome = yield* orDieSql(ensureBlock(request.poolId))
      if (outcome === "missing") return yield* new PoolNotFound({ poolId: request.poolId })
      if (outcome === "none") return yield* new PoolExhausted({ poolId: request.poolId })
      if (outcome === "busy") yield* Effect.sleep("2 millis")
      // Free rows exist but we kept skipping them as locked: wait for the locks instead.
      if (outcome === "hasFree" && ++skipped >= 3) wait = true
    }
  })

  const allocateStatic = Effect.fn("IpAllocator.allocateStatic")(function*(request: AllocateStaticRequest) {
    const { pool, space } = yield* loadPool(request.poolId)
    const slot = yield* PoolSpace.slotOf(space, pool.id, request.address)
    const address = PoolSpace.formatSlot(space, slot)
    const inUse = new AddressInUse({ poolId: pool.id, address })
    const b = bindingColumns(request.binding)
    const body = Effect.gen(function*() {
      const [live] = yield* sql<Record<string, unknown>>`
        SELECT * FROM ip_assignments
        WHERE service_id = ${request.serviceId} AND pool_id = ${pool.id} AND released_at IS NULL`
      if (live !== undefined) {
        if (BigInt(String(live["slot"])) === slot) return decodeAssignment(live)
        return yield* new Conflict({ field: "serviceId", value: request.serviceId })
      }
      // Shared lock: statics run in parallel, but not while a block is being materialised.
      const [cursor] = yield* sql<{ nextBlock: string }>`
        SELECT next_block FROM ip_pool_cursors WHERE pool_id = ${pool.id} FOR SHARE`
      const [free] = yield* sql<{ quarantined: boolean }>`
        SELECT available_at > now() AS quarantined FROM ip_pool_free
        WHERE pool_id = ${pool.id} AND slot = ${slot.toString()} FOR UPDATE`
      if (free !== undefined) {
        if (free.quarantined) {
          const [last] = yield* sql<{ serviceId: string }>`
            SELECT service_id FROM ip_assignments
            WHERE pool_id = ${pool.id} AND slot = ${slot.toString()} AND released_at IS NOT NULL
            ORDER BY released_at DESC LIMIT 1`
          if (last?.serviceId !== request.serviceId) return yield* inUse
        }
        yield* sql`DELETE FROM ip_pool_free WHERE pool_id = ${pool.id} AND slot = ${slot.toString()}`
      } else if (slot / BigInt(BLOCK_SIZE) < BigInt(cursor!.nextBlock)) {
        // Materialised and not free: someone holds it.
        return yield* inUse
      }
      const [row] = yield* sql<Record<string, unknown>>`
        INSERT INTO ip_assignments ${
        sql.insert({
          id: uuidv7(Date.now()),
          serviceId: request.serviceId,
          customerId: request.customerId,
          poolId: pool.id,
          slot: slot.toString(),
          address,
          family: pool.family,
          assignmentType: request.assignmentType ?? "STATIC",
          ...b,
          gateway: pool.gateway,
          dnsServers: JSON.stringify(pool.dnsServers)
        })
      } RETURNING *`
      return decodeAssignment(row!)
    })
    return yield* sql.withTransaction(body).pipe(
      Effect.catchIf(
        (e): e is SqlError => isSqlError(e) && pgCode(e) === "23505",
        (e) =>
          Effect.fail(
            pgConstraint(e).includes("live_service")
              ? new Conflict({ field: "serviceId", value: request.serviceId })
              : inUse
          )
      ),
      orDieSql
    )
  })

  const release = Effect.fn("IpAllocator.release")(function*(target: ReleaseTarget) {
    const where = "assignmentId" in target
      ? sql`a.id = ${target.assignmentId}`
      : target.poolId === undefined
      ? sql`a.service_id = ${target.serviceId}`
      : sql`a.service_id = ${target.serviceId} AND a.pool_id = ${target.poolId}`
    const rows = yield* orDieSql(sql<Record<string, unknown>>`
      WITH released AS (
        UPDATE ip_assignments a
        SET released_at = now(), quarantine_until = now() + make_interval(secs => p.quarantine_seconds)
        FROM ip_pools p
        WHERE p.id = a.pool_id AND a.released_at IS NULL AND ${where}
        RETURNING a.*
      ), freed AS (
        INSERT INTO ip_pool_free (pool_id, slot, address, available_at)
        SELECT pool_id, slot, address, quarantine_until FROM released
        ON CONFLICT (pool_id, slot) DO UPDATE SET available_at = EXCLUDED.available_at
      )
      SELECT * FROM released ORDER BY assigned_at, id`)
    if (rows.length === 0 && "assignmentId" in target) {
      const [row] = yield* orDieSql(sql<Record<string, unknown>>`
        SELECT * FROM ip_assignments WHERE id = ${target.assignmentId}`)
      if (row === undefined) return yield* new AssignmentNotFound({ assignmentId: target.assignmentId })
      return [decodeAssignment(row)]
    }
    return rows.map(decodeAssignment)
  })

  const utilisation = Effect.fn("IpAllocator.utilisation")(function*(poolId: PoolId) {
    const { space } = yield* loadPool(poolId)
    const [counts] = yield* orDieSql(sql<{ assigned: string; quarantined: string }>`
      SELECT
        (SELECT count(*) FROM ip_assignments WHERE pool_id = ${poolId} AND released_at IS NULL) AS assigned,
        (SELECT count(*) FROM ip_pool_free WHERE pool_id = ${poolId} AND available_at > now()) AS quarantined`)
    return PoolUtilisation.fromCounts(
      poolId,
      PoolSpace.usableCount(space),
      BigInt(counts!.assigned),
      BigInt(counts!.quarantined)
    )
  })

  const findByServices = Effect.fn("IpAllocator.findByServices")(function*(serviceIds: ReadonlyArray<ServiceId>) {
    if (serviceIds.length === 0) return []
    const rows = yield* orDieSql(sql<Record<string, unknown>>`
      SELECT * FROM ip_assignments
      WHERE ${sql.in("service_id", serviceIds)} AND released_at IS NULL
      ORDER BY assigned_at, id`)
    return rows.map(decodeAssignment)
  })

  return IpAllocator.of({
    createPool,
    getPool,
    listPools,
    allocate,
    allocateStatic,
    release,
    utilisation,
    findByService: Effect.fn("IpAllocator.findByService")(function*(serviceId: ServiceId) {
      return yield* findByServices([serviceId])
    }),
    findByServices
  })
})

/**
 * The PostgreSQL allocator; needs a migrated `SqlClient` (PostgreSQL or PGlite).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<IpAllocator, never, SqlClient.SqlClient> = Layer.scoped(IpAllocator, make)

