/**
 * The real-edges provisioning stack for tests: a fresh PostgreSQL database (TestDatabase) with the
 * FreeRADIUS tables, a real FreeRADIUS reading it, the RouterOS API test server driven by the real
 * RouterOsProvisioner, a UDP NAS stub behind the real CoA client, and the core use-cases/engine on
 * top (ProvisioningLayer) with fast engine settings.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import {
  CreateService,
  CreateTemplate,
  EngineConfig,
  IpAllocator,
  type ProvisioningWorkflow,
  Reconciler,
  type ServiceId,
  ServiceCatalog,
  WorkflowEngine
} from "@isp-framework/core"
import { expect } from "@effect/vitest"
import { Effect, Layer, Schedule, Schema } from "effect"
import { type EngineSettings, type WorkflowDefinitions, WorkflowSteps } from "@isp-framework/core"
type StepName = WorkflowDefinitions.StepName
type StepSettings = WorkflowSteps.StepSettings
const { runStep } = WorkflowSteps
import * as ProvisioningLayer from "../../src/layers/ProvisioningLayer.js"
import { freeradiusSchema } from "../../src/radius/FreeradiusSchema.js"
import { ensureSuspendedGroup } from "../../src/radius/SqlRadiusProvisioner.js"
import * as FreeRadius from "../support/FreeRadius.js"
import * as NasStub from "../support/NasStub.js"
import * as RouterOsTestServer from "../support/RouterOsTestServer.js"
import * as TestDatabase from "../support/TestDatabase.js"

export const ROUTER_ID = "bng-1"
export const NAS_SECRET = "nas-secret-1"

/** Real PostgreSQL is required; in CI (DATABASE_URL set) these suites always run. */
export const realPostgres = TestDatabase.realPostgresAvailable() || process.env["CI"] !== undefined

export const fastSettings: EngineSettings = {
  maxAttempts: 3,
  backoff: Schedule.spaced("20 millis"),
  stepTimeout: "5 seconds",
  nasTimeout: "2 seconds",
  leaseMillis: 8_000,
  compensationAttempts: 3,
  blockedDelay: "10 millis"
}

/** The walled-garden profile the suspended group answers with. */
export const SUSPENDED_PROFILE = [
  { attribute: "Mikrotik-Address-List", value: "suspended" },
  { attribute: "Mikrotik-Rate-Limit", value: "64k/64k" }
]

const Database = (options: { readonly freeradius: boolean }) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      if (!options.freeradius) return
      yield* freeradiusSchema
      yield* ensureSuspendedGroup(SUSPENDED_PROFILE)
    }).pipe(Effect.orDie)
  ).pipe(Layer.provideMerge(TestDatabase.layerPg()))

const FreeRadiusLayer = Layer.unwrapEffect(Effect.map(TestDatabase.TestDatabaseInfo, (info) =>
  FreeRadius.layer({
    database: info.databaseName!,
    host: info.host,
    port: info.port,
    user: info.username,
    password: info.password
  })))

const Peers = Layer.mergeAll(RouterOsTestServer.layer(), NasStub.layer({ secret: NAS_SECRET }))

const App = (settings: Partial<EngineSettings>) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const router = yield* RouterOsTestServer.RouterOsTestServerTag
    const nas = yield* NasStub.NasStubService
    return ProvisioningLayer.layer({
      radius: "sql",
      routers: {
        [ROUTER_ID]: { host: router.host, port: router.port, user: "admin", password: "secret", timeout: "2 seconds", poolSize: 4 }
      },
      nas: { registry: { [ROUTER_ID]: nas.endpoint }, coa: { timeout: "150 millis", retries: 1 } }
    }).pipe(Layer.provideMerge(Layer.succeed(EngineConfig, { ...fastSettings, ...settings })))
  }))

/** Everything but FreeRADIUS: database (+ FreeRADIUS tables), RouterOS test server, NAS stub, services. */
export const stack = (options: { readonly settings?: Partial<EngineSettings> } = {}) =>
  App(options.settings ?? {}).pipe(Layer.provideMerge(Peers), Layer.provideMerge(Database({ freeradius: true })))

/** {@link stack} plus a running FreeRADIUS reading the test database. */
export const stackWithFreeRadius = (options: { readonly settings?: Partial<EngineSettings> } = {}) =>
  App(options.settings ?? {}).pipe(
    Layer.provideMerge(Peers),
    Layer.provideMerge(FreeRadiusLayer),
    Layer.provideMerge(Database({ freeradius: true }))
  )

/** An IPv4 pool and two INTERNET plans on it (10/2 Mbit/s with burst; 50/10). */
export const setupPlan = (options: { readonly cidr: string }) =>
  Effect.gen(function*() {
    const ips = yield* IpAllocator
    const catalog = yield* ServiceCatalog
    const suffix = Math.random().toString(36).slice(2, 8)
    const pool = yield* ips.createPool({ name: `pool-${suffix}`, cidr: options.cidr, gateway: null, quarantineSeconds: 300 })
    const template = yield* catalog.create(Schema.decodeUnknownSync(CreateTemplate)({
      serviceType: "INTERNET",
      name: `home-${suffix}`,
      displayName: "Home 10",
      tariffId: "tariff-home-10",
      internet: {
        downloadSpeedKbps: 10_000,
        uploadSpeedKbps: 2_000,
        burst: { downloadKbps: 15_000, uploadKbps: 3_000, thresholdDownloadKbps: 8_000, thresholdUploadKbps: 1_500, timeSeconds: 16 },
        ipPoolId: pool.id,
        suspendedSpeedKbps: 512,
        routerProfile: "default"
      }
    }))
    const faster = yield* catalog.create(Schema.decodeUnknownSync(CreateTemplate)({
      serviceType: "INTERNET",
      name: `home-${suffix}-50`,
      displayName: "Home 50",
      tariffId: "tariff-home-50",
      internet: { downloadSpeedKbps: 50_000, uploadSpeedKbps: 10_000, ipPoolId: pool.id }
    }))
    return { pool, template, faster }
  })

/** A PPPoE request on the test router. */
export const pppoeRequest = (templateId: string, n: number | string) =>
  Schema.decodeUnknownSync(CreateService)({
    customerId: `cust-${n}`,
    templateId,
    connectionType: "PPPOE",
    pppoeUsername: `user${n}@isp.net`,
    pppoePassword: `secret-${n}`,
    routerId: ROUTER_ID
  })

/** Runs workflows to the end (waiting out retries). */
export const finish = (started: { readonly workflow: ProvisioningWorkflow }) =>
  Effect.flatMap(WorkflowEngine, (e) => e.drain([started.workflow.id], { pollInterval: "20 millis" })).pipe(Effect.map((ws) => ws[0]!))

/** Re-runs every step of a finished workflow directly (they must be idempotent). */
export const rerunSteps = (workflow: ProvisioningWorkflow) =>
  Effect.gen(function*() {
    const settings: StepSettings = { nasTimeout: fastSettings.nasTimeout }
    for (const step of workflow.steps) {
      if (step.status !== "SUCCEEDED") continue
      yield* runStep(step.name as StepName, workflow, settings).pipe(Effect.orDie)
    }
  })

/** The Reconciler finds nothing to fix. */
export const expectNoDrift = (serviceId: ServiceId) =>
  Effect.gen(function*() {
    const report = yield* (yield* Reconciler.Reconciler).check(serviceId)
    expect(report.skipped).toBeNull()
    expect(report.drift).toEqual([])
  })

/** What the RouterOS test server holds for a service (rows tagged with its id). */
export const routerRows = (server: RouterOsTestServer.RouterOsTestServer, serviceId: string) => {
  const tagged = (path: string) => server.table(path).filter((r) => r.comment === `isp:${serviceId}`)
  return {
    secrets: tagged("/ppp/secret"),
    queues: tagged("/queue/simple"),
    addressList: tagged("/ip/firewall/address-list"),
    leases: tagged("/ip/dhcp-server/lease")
  }
}

/** Counts a user's rows per FreeRADIUS table. */
export const radiusRowCounts = (username: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ check: number; reply: number; groups: number }>`
      SELECT (SELECT count(*)::int FROM radcheck WHERE username = ${username}) AS check,
             (SELECT count(*)::int FROM radreply WHERE username = ${username}) AS reply,
             (SELECT count(*)::int FROM radusergroup WHERE username = ${username}) AS groups`
    return row!
  }).pipe(Effect.orDie)
