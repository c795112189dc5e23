/**
 * Test stacks for the HTTP suites: the core use-cases on memory adapters (fast) or on a database
 * (PGlite / PostgreSQL via the adapters' TestDatabase), served on a real listening server (port 0).
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { BillingHooksNoop, CreateTemplate, type CustomerId, InternetSpec, IpAllocator, MemoryIpAllocator, MemoryRepositoriesLayer, MemoryTokenRepository, MemoryUsageStore, ServiceCatalog, ServiceLifecycle, ServiceProvisioning, ServiceQuery, type ServiceTemplate, SimulatedNas, SimulatedRadius, SimulatedRouter, TariffId, Transactor, WorkflowEngine } from "@isp-framework/core"
import { Handlers, HttpLayer, Security } from "@isp-framework/http"
import { Context, type Duration, Effect, Layer, Redacted } from "effect"
import { createServer } from "node:http"
import { ServiceAlerts, ServiceUsage } from "../../src/internal/core.js"

/** The use-cases and the engine on top of whatever ports are provided. */
export const UseCases = Layer.mergeAll(
  ServiceQuery.Default,
  ServiceProvisioning.Default,
  ServiceCatalog.Default,
  ServiceLifecycle.Default,
  WorkflowEngine.Default,
  ServiceUsage.Default,
  ServiceAlerts.Default
)

/** Network side: simulated RADIUS, router and NAS; billing hooks do nothing. */
export const SimulatedNetwork = Layer.mergeAll(SimulatedRadius.layer, SimulatedRouter.layer, SimulatedNas.layer, BillingHooksNoop)

/** Everything in memory. */
export const MemoryPorts = Layer.mergeAll(
  MemoryRepositoriesLayer,
  MemoryIpAllocator.layer,
  MemoryTokenRepository.layer,
  Transactor.layerMemory,
  MemoryUsageStore.layer,
  SimulatedNetwork
)

/** Base URL of the listening test server. */
export class BaseUrl extends Context.Tag("test/BaseUrl")<BaseUrl, string>() {}

export const BOOTSTRAP = "bootstrap-admin-token-for-tests-0123456789"

/** Serves the API on 127.0.0.1:<random port> over `ports`, exposing the use-cases to the test too. */
export const serverOn = <E, R>(
  ports: Layer.Layer<any, E, R>,
  options: { readonly alertHeartbeat?: Duration.DurationInput } = {}
) => {
  const core = UseCases.pipe(Layer.provideMerge(ports))
  const http = HttpLayer.layer({ logger: false }).pipe(
    Layer.provide(Security.layerTokens({ bootstrapAdminToken: Redacted.make(BOOTSTRAP) })),
    Layer.provide(
      options.alertHeartbeat === undefined
        ? Layer.empty
        : Layer.succeed(Handlers.AlertStreamConfig, { heartbeat: options.alertHeartbeat })
    ),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )
  const url = Layer.effect(
    BaseUrl,
    Effect.map(HttpServer.HttpServer, (server) => {
      const a = server.address
      return a._tag === "TcpAddress" ? `http://127.0.0.1:${a.port}` : "http://localhost"
    })
  )
  return Layer.mergeAll(url, Layer.empty).pipe(Layer.provideMerge(http), Layer.provideMerge(core))
}

export interface Reply {
  readonly status: number
  readonly body: any
  readonly text: string
  readonly headers: Headers
}

/** One HTTP request against the test server. */
export const request = (
  method: string,
  path: string,
  options: { readonly token?: string | undefined; readonly body?: unknown; readonly rawBody?: string; readonly headers?: Record<string, string> } = {}
) =>
  Effect.flatMap(BaseUrl, (base) =>
    Effect.promise(async (): Promise<Reply> => {
      const headers: Record<string, string> = { ...options.headers }
      if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
      let body: string | undefined
      if (options.rawBody !== undefined) body = options.rawBody
      else if (options.body !== undefined) body = JSON.stringify(options.body)
      if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json"
      const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) })
      const text = await res.text()
      let parsed: unknown = undefined
      try {
        parsed = text === "" ? undefined : JSON.parse(text)
      } catch {
        parsed = undefined
      }
      return { status: res.status, body: parsed, text, headers: res.headers }
    }))

/** Distinct /22s for every pool this process seeds (random ones collided: PoolOverlap). */
let poolSeq = 0
const nextPoolCidr = () => {
  const n = poolSeq++
  return `10.${10 + Math.floor(n / 64)}.${(n % 64) * 4}.0/22`
}

/** A pool and an INTERNET template selling from it. */
export const seedCatalog = (name = `fiber-${Math.random().toString(36).slice(2, 8)}`) =>
  Effect.gen(function*() {
    const ips = yield* IpAllocator
    const pool = yield* ips.createPool({ name: `pool-${name}`, cidr: nextPoolCidr() })
    const catalog = yield* ServiceCatalog
    const template: ServiceTemplate = yield* catalog.create(new CreateTemplate({
      serviceType: "INTERNET",
      name,
      displayName: `Fiber ${name}`,
      description: "",
      tariffId: TariffId.make("tariff-100"),
      category: "RESIDENTIAL",
      billingModel: "POSTPAID",
      billingPeriod: "MONTHLY",
      price: 30,
      currency: "USD",
      isActive: true,
      isPublic: true,
      availableLocations: [],
      availableFrom: null,
      availableUntil: null,
      minimumContractMonths: 0,
      internet: new InternetSpec({
        downloadSpeedKbps: 100_000,
        uploadSpeedKbps: 20_000,
        burst: null,
        monthlyDataLimitBytes: null,
        fup: null,
        ipPoolId: pool.id,
        ipv6PoolId: null,
        staticIpRequired: false,
        ipv6Enabled: false,
        routerProfile: null,
        suspendedSpeedKbps: 256,
        uptimeSlaPercent: null,
        activationSlaMinutes: null
      }),
      voice: null,
      bundle: null,
      recurring: null
    }))
    return { pool, template }
  })

/** Tokens: admin (issued through the repository) and one per customer. */
export const issue = (scope: "api" | "customer", customerId?: string) =>
  Effect.map(
    Security.issueToken({ scope, customerId: customerId as CustomerId | undefined }),
    (t) => Redacted.value(t.token)
  )
