/**
 * IP pools, assignments and the lazily materialised free list (see docs/ip-pools.md).
 *
 * - `ip_pool_free` holds claimable slots of the blocks materialised so far plus released slots (with
 *   `available_at` = end of quarantine). A claim is one index probe on `(pool_id, available_at, slot)`.
 * - `ip_pool_cursors` is the per-pool "next block" cursor, locked only while a block is added.
 * - The partial unique indexes on live assignments are the last line of defence: one live holder
 *   per slot, one live assignment per (service, pool).
 * - The exclusion constraint keeps pools from overlapping even when two instances create them at once.
 * Pools are reference data; assignments carry `customer_id` for a later distribution by customer.
 * No foreign key from the hot tables to `ip_pools`: its check takes FOR KEY SHARE on the pool row in
 * every claim, and 32 concurrent claims on one row turn that into MultiXact churn. Pools are never
 * deleted (there is no delete), and every write path reads the pool first, so nothing can dangle.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE ip_pools (
      id uuid PRIMARY KEY,
      name text COLLATE "C" NOT NULL,
      family smallint NOT NULL CHECK (family IN (4, 6)),
      cidr text COLLATE "C" NOT NULL,
      network cidr NOT NULL,
      gateway text COLLATE "C",
      dns_servers jsonb NOT NULL,
      excluded_addresses jsonb NOT NULL,
      excluded_ranges jsonb NOT NULL,
      delegated_prefix_length smallint NOT NULL,
      quarantine_seconds integer NOT NULL CHECK (quarantine_seconds >= 0),
      router_id text COLLATE "C",
      region text COLLATE "C",
      created_at timestamptz NOT NULL,
      CONSTRAINT ip_pools_no_overlap EXCLUDE USING gist (network inet_ops WITH &&)
    )`
  yield* sql`
    CREATE TABLE ip_pool_cursors (
      pool_id uuid PRIMARY KEY REFERENCES ip_pools (id),
      next_block numeric(40, 0) NOT NULL,
      block_count numeric(40, 0) NOT NULL
    )`
  yield* sql`
    CREATE TABLE ip_pool_free (
      pool_id uuid NOT NULL,
      slot numeric(40, 0) NOT NULL,
      address text COLLATE "C" NOT NULL,
      available_at timestamptz NOT NULL,
      PRIMARY KEY (pool_id, slot)
    )`
  yield* sql`CREATE INDEX ip_pool_free_claim_idx ON ip_pool_free (pool_id, available_at, slot)`
  yield* sql`
    CREATE TABLE ip_assignments (
      id uuid PRIMARY KEY,
      service_id uuid NOT NULL,
      customer_id text COLLATE "C" NOT NULL,
      pool_id uuid NOT NULL,
      slot numeric(40, 0) NOT NULL,
      address text COLLATE "C" NOT NULL,
      family smallint NOT NULL,
      assignment_type text COLLATE "C" NOT NULL,
      binding_type text COLLATE "C" NOT NULL,
      mac_address text COLLATE "C",
      username text COLLATE "C",
      gateway text COLLATE "C",
      dns_servers jsonb NOT NULL,
      assigned_at timestamptz NOT NULL DEFAULT now(),
      released_at timestamptz,
      quarantine_until timestamptz
    )`
  // Last line of defence: never two live holders of one slot, never two live assignments per service+pool.
  // (slot, pool_id): leading with pool_id would tempt the planner to scan a pool's live rows for a service.
  yield* sql`CREATE UNIQUE INDEX ip_assignments_live_slot_idx ON ip_assignments (slot, pool_id) WHERE released_at IS NULL`
  yield* sql`
    CREATE UNIQUE INDEX ip_assignments_live_service_idx ON ip_assignments (service_id, pool_id)
    WHERE released_at IS NULL`
  // Sticky look-ups (previous address of a service or MAC) and "who held this slot last".
  yield* sql`
    CREATE INDEX ip_assignments_prev_service_idx ON ip_assignments (pool_id, service_id, released_at)
    WHERE released_at IS NOT NULL`
  yield* sql`
    CREATE INDEX ip_assignments_prev_mac_idx ON ip_assignments (pool_id, mac_address, released_at)
    WHERE released_at IS NOT NULL AND mac_address IS NOT NULL`
  yield* sql`
    CREATE INDEX ip_assignments_prev_slot_idx ON ip_assignments (pool_id, slot, released_at)
    WHERE released_at IS NOT NULL`

  // The claim, as a function so its plans are cached per session (a CTE statement of the same shape
  // spends ~3 ms planning on every call). One call = one statement = one implicit transaction:
  // 1. the service's live assignment in the pool, if any (idempotent allocate);
  // 2. sticky: the newest previous slot of the service or MAC, if free and not locked (own quarantine ignored);
  // 3. the first claimable slot: SKIP LOCKED, or waiting for row locks when p_wait.
  // No row returned = nothing claimable was found; the caller then materialises a block or reports exhaustion.
  yield* sql.unsafe(`
    CREATE FUNCTION isp_ip_claim(
      p_pool uuid, p_service uuid, p_customer text, p_id uuid, p_binding text, p_mac text, p_username text,
      p_sticky boolean, p_wait boolean
    ) RETURNS SETOF ip_assignments
    LANGUAGE plpgsql AS $$
    DECLARE
      v_prev numeric;
      v_slot numeric;
      v_address text;
    BEGIN
      RETURN QUERY SELECT * FROM ip_assignments a
        WHERE a.service_id = p_service AND a.pool_id = p_pool AND a.released_at IS NULL;
      IF FOUND THEN RETURN; END IF;
      -- Sticky: two separately planned look-ups (an OR over two partial indexes plans badly when generic).
      IF p_sticky THEN
        IF p_mac IS NULL THEN
          SELECT a.slot INTO v_prev FROM ip_assignments a
          WHERE a.pool_id = p_pool AND a.service_id = p_service AND a.released_at IS NOT NULL
          ORDER BY a.released_at DESC LIMIT 1;
        ELSE
          SELECT a.slot INTO v_prev FROM ip_assignments a
          WHERE a.pool_id = p_pool AND a.released_at IS NOT NULL
            AND (a.service_id = p_service OR a.mac_address = p_mac)
          ORDER BY a.released_at DESC LIMIT 1;
        END IF;
        IF v_prev IS NOT NULL THEN
          DELETE FROM ip_pool_free f
          WHERE f.pool_id = p_pool AND f.slot = (
            SELECT s.slot FROM ip_pool_free s WHERE s.pool_id = p_pool AND s.slot = v_prev FOR UPDATE SKIP LOCKED)
          RETURNING f.slot, f.address INTO v_slot, v_address;
        END IF;
      END IF;
      IF v_slot IS NULL AND NOT p_wait THEN
        DELETE FROM ip_pool_free f
        WHERE f.pool_id = p_pool AND f.slot = (
          SELECT s.slot FROM ip_pool_free s
          WHERE s.pool_id = p_pool AND s.available_at <= now()
          ORDER BY s.available_at, s.slot LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING f.slot, f.address INTO v_slot, v_address;
      ELSIF v_slot IS NULL THEN
        DELETE FROM ip_pool_free f
        WHERE f.pool_id = p_pool AND f.slot = (
          SELECT s.slot FROM ip_pool_free s
          WHERE s.pool_id = p_pool AND s.available_at <= now()
          ORDER BY s.available_at, s.slot LIMIT 1 FOR UPDATE)
        RETURNING f.slot, f.address INTO v_slot, v_address;
      END IF;
      IF v_slot IS NULL THEN RETURN; END IF;
      RETURN QUERY
        INSERT INTO ip_assignments AS a (id, service_id, customer_id, pool_id, slot, address, family, assignment_type,
          binding_type, mac_address, username, gateway, dns_servers, assigned_at)
        SELECT p_id, p_service, p_customer, p.id, v_slot, v_address, p.family, 'DYNAMIC',
          p_binding, p_mac, p_username, p.gateway, p.dns_servers, now()
        FROM ip_pools p WHERE p.id = p_pool
        RETURNING a.*;
    END
    $$`)
  // Many claims in one statement (one commit): the adapter batches concurrent allocations. Items are
  // independent; one failing aborts the batch and the adapter then claims its items one by one.
  yield* sql.unsafe(`
    CREATE FUNCTION isp_ip_claim_many(p_requests jsonb) RETURNS SETOF ip_assignments
    LANGUAGE plpgsql AS $$
    DECLARE
      r jsonb;
    BEGIN
      FOR r IN SELECT value FROM jsonb_array_elements(p_requests) LOOP
        RETURN QUERY SELECT * FROM isp_ip_claim((r->>'poolId')::uuid, (r->>'serviceId')::uuid, r->>'customerId',
          (r->>'id')::uuid, r->>'bindingType', r->>'macAddress', r->>'username', (r->>'sticky')::boolean, false);
      END LOOP;
    END
    $$`)
})
