/**
 * Templates, services, status history, workflows and alerts. Every per-customer table carries
 * `customer_id` so the schema can later be distributed by customer (Citus-style); templates and
 * tariffs are reference data. Text columns that are filtered or ordered use `COLLATE "C"` so that
 * SQL ordering matches the in-memory reference evaluator byte for byte (and so the indexes serve
 * the `COLLATE "C"` comparisons the filter compiler emits). Timestamps are `timestamptz(3)`: the
 * evaluator and JS work in milliseconds, so a value written by SQL `now()` must not carry
 * microseconds that a filter bound from JS could never equal. See docs/postgres.md.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE tariffs (
      id text COLLATE "C" PRIMARY KEY,
      created_at timestamptz(3) NOT NULL DEFAULT now()
    )`
  yield* sql`
    CREATE TABLE service_templates (
      id uuid PRIMARY KEY,
      service_type text COLLATE "C" NOT NULL,
      name text COLLATE "C" NOT NULL UNIQUE,
      display_name text COLLATE "C" NOT NULL,
      description text NOT NULL,
      tariff_id text COLLATE "C" NOT NULL REFERENCES tariffs (id),
      category text COLLATE "C" NOT NULL,
      billing_model text COLLATE "C" NOT NULL,
      billing_period text COLLATE "C" NOT NULL,
      price double precision NOT NULL,
      currency text COLLATE "C" NOT NULL,
      is_active boolean NOT NULL,
      is_public boolean NOT NULL,
      available_locations jsonb NOT NULL,
      available_from timestamptz(3),
      available_until timestamptz(3),
      minimum_contract_months integer NOT NULL,
      internet jsonb,
      voice jsonb,
      bundle jsonb,
      recurring jsonb,
      created_at timestamptz(3) NOT NULL,
      updated_at timestamptz(3) NOT NULL
    )`
  yield* sql`CREATE INDEX service_templates_type_idx ON service_templates (service_type, id)`
  yield* sql`
    CREATE TABLE customer_services (
      id uuid PRIMARY KEY,
      service_number text COLLATE "C" NOT NULL UNIQUE,
      customer_id text COLLATE "C" NOT NULL,
      template_id uuid NOT NULL REFERENCES service_templates (id),
      tariff_id text COLLATE "C" NOT NULL REFERENCES tariffs (id),
      service_type text COLLATE "C" NOT NULL,
      status text COLLATE "C" NOT NULL,
      suspension_reason text COLLATE "C",
      suspension_type text COLLATE "C",
      connection_type text COLLATE "C" NOT NULL,
      pppoe_username text COLLATE "C",
      pppoe_password text,
      mac_address text COLLATE "C",
      circuit_id text COLLATE "C",
      router_id text COLLATE "C",
      location text COLLATE "C",
      billing_model text COLLATE "C" NOT NULL,
      download_speed_kbps integer,
      upload_speed_kbps integer,
      requested_ip text,
      activated_at timestamptz(3),
      suspended_at timestamptz(3),
      terminated_at timestamptz(3),
      contract_start timestamptz(3),
      contract_end timestamptz(3),
      created_at timestamptz(3) NOT NULL,
      updated_at timestamptz(3) NOT NULL,
      version integer NOT NULL
    )`
  // One live service per RADIUS user name; a terminated one frees the name for reuse.
  yield* sql`
    CREATE UNIQUE INDEX customer_services_live_username_idx ON customer_services (pppoe_username)
    WHERE pppoe_username IS NOT NULL AND status <> 'TERMINATED'`
  // The hot paths: per-customer listings, status listings newest first, keyset on (created_at, id).
  yield* sql`CREATE INDEX customer_services_customer_idx ON customer_services (customer_id, created_at, id)`
  yield* sql`CREATE INDEX customer_services_status_created_idx ON customer_services (status, created_at, id)`
  yield* sql`CREATE INDEX customer_services_created_idx ON customer_services (created_at, id)`
  yield* sql`CREATE INDEX customer_services_template_idx ON customer_services (template_id)`
  yield* sql`CREATE INDEX customer_services_mac_idx ON customer_services (mac_address) WHERE mac_address IS NOT NULL`
  yield* sql`CREATE SEQUENCE service_number_seq`

  yield* sql`
    CREATE TABLE service_status_changes (
      id uuid PRIMARY KEY,
      service_id uuid NOT NULL REFERENCES customer_services (id),
      customer_id text COLLATE "C" NOT NULL,
      previous_status text COLLATE "C",
      next_status text COLLATE "C" NOT NULL,
      event text COLLATE "C" NOT NULL,
      reason text COLLATE "C",
      note text,
      changed_by text COLLATE "C" NOT NULL,
      change_method text COLLATE "C" NOT NULL,
      at timestamptz(3) NOT NULL
    )`
  yield* sql`CREATE INDEX service_status_changes_service_idx ON service_status_changes (service_id, at, id)`
  yield* sql`CREATE INDEX service_status_changes_at_idx ON service_status_changes (at, id)`
  yield* sql`CREATE INDEX service_status_changes_customer_idx ON service_status_changes (customer_id, at, id)`

  yield* sql`
    CREATE TABLE provisioning_workflows (
      id uuid PRIMARY KEY,
      service_id uuid NOT NULL REFERENCES customer_services (id),
      customer_id text COLLATE "C" NOT NULL,
      kind text COLLATE "C" NOT NULL,
      status text COLLATE "C" NOT NULL,
      steps jsonb NOT NULL,
      input jsonb,
      idempotency_key text COLLATE "C" UNIQUE,
      locked_by text COLLATE "C",
      locked_until timestamptz(3),
      next_run_at timestamptz(3) NOT NULL,
      last_error text,
      created_at timestamptz(3) NOT NULL,
      updated_at timestamptz(3) NOT NULL,
      finished_at timestamptz(3)
    )`
  // Workers poll this: only unfinished workflows, ordered by due time.
  yield* sql`
    CREATE INDEX provisioning_workflows_due_idx ON provisioning_workflows (next_run_at, id)
    WHERE status IN ('PENDING', 'RUNNING')`
  yield* sql`CREATE INDEX provisioning_workflows_service_idx ON provisioning_workflows (service_id, created_at, id)`
  // NOC listings: failed / manual workflows newest first.
  yield* sql`CREATE INDEX provisioning_workflows_status_idx ON provisioning_workflows (status, created_at, id)`
  yield* sql`CREATE INDEX provisioning_workflows_customer_idx ON provisioning_workflows (customer_id, created_at, id)`

  yield* sql`
    CREATE TABLE service_alerts (
      id uuid PRIMARY KEY,
      service_id uuid REFERENCES customer_services (id),
      customer_id text COLLATE "C",
      pool_id uuid,
      type text COLLATE "C" NOT NULL,
      severity text COLLATE "C" NOT NULL,
      status text COLLATE "C" NOT NULL,
      title text COLLATE "C" NOT NULL,
      message text NOT NULL,
      cause text COLLATE "C" NOT NULL,
      threshold_value double precision,
      current_value double precision,
      created_at timestamptz(3) NOT NULL,
      updated_at timestamptz(3) NOT NULL,
      acknowledged_by text COLLATE "C",
      acknowledged_at timestamptz(3),
      resolved_by text COLLATE "C",
      resolved_at timestamptz(3),
      resolution_notes text
    )`
  // At most one open alert per (subject, cause): the database enforces it across app instances.
  yield* sql`
    CREATE UNIQUE INDEX service_alerts_open_cause_idx
    ON service_alerts ((coalesce(service_id::text, pool_id::text, '')), cause)
    WHERE status <> 'RESOLVED'`
  yield* sql`CREATE INDEX service_alerts_created_idx ON service_alerts (created_at, id)`
  yield* sql`CREATE INDEX service_alerts_customer_idx ON service_alerts (customer_id, created_at, id)`
  // Per-service listings, and the foreign key's own look-up.
  yield* sql`CREATE INDEX service_alerts_service_idx ON service_alerts (service_id, created_at, id)`
  // The open-alerts screen: status filter, newest first.
  yield* sql`CREATE INDEX service_alerts_status_idx ON service_alerts (status, created_at, id)`
})
