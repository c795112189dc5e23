/**
 * The example server's program (loaded by `main.ts` while the database starts): demo data, the
 * printed tokens, the v1 API on `PORT` and the workflow worker, over a migrated database.
 */
import { NodeHttpServer } from "@effect/platform-node"
import {
  CreateService,
  CreateTemplate,
  type CustomerId,
  InternetSpec,
  PppoeUsername,
  TariffId,
  VoiceSpec
} from "@isp-framework/core"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { createServer } from "node:http"
import { IpAllocator, ServiceCatalog, ServiceProvisioning, Worker } from "@isp-framework/core"
import { HttpLayer, Security } from "@isp-framework/http"
import { startupPhase as phase } from "./Database.js"
import { UseCasesLive } from "./Stack.js"

const DEMO_CUSTOMER = "cust-1001" as CustomerId


/** Demo catalog, pool and one service, only into an empty database. Returns whether it seeded. */
const seed = Effect.gen(function*() {
  const catalog = yield* ServiceCatalog
  const existing = yield* Effect.orDie(catalog.list({ limit: 1 }))
  if (existing.items.length > 0) return false
  const ips = yield* IpAllocator
  const pool = yield* Effect.orDie(ips.createPool({ name: "demo-cgnat", cidr: "100.64.0.0/22", gateway: "100.64.0.1", dnsServers: ["1.1.1.1"] }))
  const internet = (name: string, displayName: string, down: number, up: number, price: number) =>
    catalog.create(new CreateTemplate({
      serviceType: "INTERNET",
      name,
      displayName,
      tariffId: TariffId.make(`tariff-${name}`),
      price,
      internet: new InternetSpec({ downloadSpeedKbps: down, uploadSpeedKbps: up, ipPoolId: pool.id })
    }))
  const fiber = yield* Effect.orDie(internet("fiber-100", "Fiber 100/20", 100_000, 20_000, 29.9))
  yield* Effect.orDie(internet("fiber-500", "Fiber 500/100", 500_000, 100_000, 49.9))
  yield* Effect.orDie(catalog.create(new CreateTemplate({
    serviceType: "VOICE",
    name: "voice-basic",
    displayName: "Voice basic",
    tariffId: TariffId.make("tariff-voice-basic"),
    price: 5,
    voice: new VoiceSpec({ includedMinutes: 100, perMinuteRate: 0.02 })
  })))
  const provisioning = yield* ServiceProvisioning
  yield* Effect.orDie(provisioning.provisionInternet(new CreateService({
    customerId: DEMO_CUSTOMER,
    templateId: fiber.id,
    connectionType: "PPPOE",
    pppoeUsername: Schema.decodeSync(PppoeUsername)("cust1001@demo"),
    pppoePassword: Redacted.make("demo-password")
  }), { idempotencyKey: "demo-seed-1" }))
  return true
})

const program = Effect.gen(function*() {
  yield* phase("use-cases built")
  const seeded = yield* seed
  yield* phase(seeded ? "demo data seeded" : "existing data kept")
  const bootstrap = yield* Config.option(Config.redacted("ISP_ADMIN_TOKEN"))
  const port = yield* Config.withDefault(Config.integer("PORT"), 3000)
  const lines: Array<string> = []
  if (Option.isSome(bootstrap)) lines.push("admin token:    (ISP_ADMIN_TOKEN)")
  if (seeded) {
    if (Option.isNone(bootstrap)) {
      const admin = yield* Security.issueToken({ scope: "api", name: "bootstrap admin" })
      lines.push(`admin token:    ${Redacted.value(admin.token)}`)
    }
    const customer = yield* Security.issueToken({ scope: "customer", customerId: DEMO_CUSTOMER, name: "demo customer" })
    lines.push(`customer token: ${Redacted.value(customer.token)}   (customer ${DEMO_CUSTOMER})`)
  } else if (Option.isNone(bootstrap)) {
    lines.push("admin token:    printed at first start; set ISP_ADMIN_TOKEN to choose one")
  }
  // Printed once, on stdout, outside the structured log stream (tokens never go through the logger).
  process.stdout.write(
    `\nISP Framework example server\n  API:     http://localhost:${port}/v1\n  docs:    http://localhost:${port}/docs\n  OpenAPI: http://localhost:${port}/v1/openapi.json\n  ${lines.join("\n  ")}\n\n`
  )
  return Option.getOrUndefined(bootstrap)
})

/** The server over a migrated database (`SqlClient` in context). */
export const Main = Layer.unwrapEffect(Effect.gen(function*() {
  const port = yield* Config.withDefault(Config.integer("PORT"), 3000)
  return Layer.unwrapEffect(Effect.map(program, (bootstrap) =>
    HttpLayer.layer().pipe(
      Layer.provide(Security.layerTokens({ bootstrapAdminToken: bootstrap })),
      Layer.provide(NodeHttpServer.layer(createServer, { port })),
      Layer.tap(() => phase(`listening on :${port}`)),
      // Released first on SIGTERM: the server stops accepting and drains, then the worker stops.
      Layer.merge(Layer.scopedDiscard(Effect.addFinalizer(() => Effect.logInfo("shutting down: draining requests and the worker"))))
    ))).pipe(
      Layer.provideMerge(Worker.layer(1, { pollInterval: "200 millis" }))
    )
})).pipe(
  Layer.provide(UseCasesLive)
)
