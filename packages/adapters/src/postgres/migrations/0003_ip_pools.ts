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
      pool_id uuid NOT NULL REFERENCES ip_pools (id),
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
      pool_id uuid NOT NULL REFERENCES ip_pools (id),
      slot numeric(40, 0) NOT NULL,
      address text COLLATE "C" NOT NULL,
      family smallint NOT NULL,
      assignment_type text COLLATE "C" NOT NULL,
      binding_type text COLLATE "C" NOT NULL,
      mac_address text COLLATE "C",
      username text COLLATE "C",
      gateway text COLLATE "C",
      dns_servers jsonb NOT NULL,
      assigned_at timestamptz NOT NULL,
      released_at timestamptz,
      quarantine_until timestamptz
    )`
  // Last line of defence: never two live holders of one slot, never two live assignments per service+pool.
  yield* sql`CREATE UNIQUE INDEX ip_assignments_live_slot_idx ON ip_assignments (pool_id, slot) WHERE released_at IS NULL`
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
})
