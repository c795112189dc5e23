/**
 * The RouterOS adapter driven through the real node-routeros client against the test server.
 */
import { describe, expect, it, layer } from "@effect/vitest"
import type { RouterServiceSpec, ServiceId } from "@isp-framework/core"
import { RouterProvisioner } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { randomUUID } from "node:crypto"
import * as RouterOsClient from "../../src/routeros/RouterOsClient.js"
import * as RouterOsProvisioner from "../../src/routeros/RouterOsProvisioner.js"
import * as SimulatedRouterProvisioner from "../../src/routeros/SimulatedRouterProvisioner.js"
import type { Row } from "../support/RouterOsTestServer.js"
import { RouterOsTestServer, RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import * as TestServer from "../support/RouterOsTestServer.js"

const PATHS = ["/ppp/secret", "/ip/dhcp-server/lease", "/queue/simple", "/ip/firewall/address-list"] as const

let seq = 0
const nextAddress = () => {
  seq++
  return `10.${Math.floor(seq / 65536) % 256}.${Math.floor(seq / 256) % 256}.${seq % 256}`
}

const pppoe = (overrides: Partial<RouterServiceSpec> = {}): RouterServiceSpec => {
  const n = ++seq
  return {
    serviceId: randomUUID() as ServiceId,
    serviceNumber: `S${n}`,
    connectionType: "PPPOE",
    pppoeUsername: `user${n}`,
    pppoePassword: `pw${n}`,
    macAddress: null,
    address: nextAddress(),
    rate: { downloadKbps: 20_000, uploadKbps: 5_000 },
    profile: null,
    suspended: "NONE",
    ...overrides
  }
}

const dhcp = (overrides: Partial<RouterServiceSpec> = {}): RouterServiceSpec =>
  pppoe({
    connectionType: "DHCP",
    pppoeUsername: null,
    pppoePassword: null,
    macAddress: `aa:bb:cc:${[seq >> 16, seq >> 8, seq].map((b) => (b & 255).toString(16).padStart(2, "0")).join(":")}`,
    ...overrides
  })

/** What the router holds for a service, per table. */
const held = (server: RouterOsTestServer, serviceId: string): Record<(typeof PATHS)[number], Array<Row>> =>
  Object.fromEntries(
    PATHS.map((p) => [p, server.table(p).filter((r) => r.comment === `isp:${serviceId}`)])
  ) as Record<(typeof PATHS)[number], Array<Row>>

const writes = (server: RouterOsTestServer) =>
  server.commands.filter((c) => /\/(add|set|remove)$/.test(c.command)).map((c) => c.command)

// A port nobody listens on: a server started and stopped.
const closedPort = Effect.promise(async () => {
  const s = await RouterOsTestServer.start()
  await s.stop()
  return s.port
})

const TestLayer = Layer.unwrapEffect(
  Effect.gen(function*() {
    const server = yield* RouterOsTestServerTag
    const downPort = yield* closedPort
    const base = { host: "127.0.0.1", port: server.port, user: "admin", password: "secret" }
    const client = RouterOsClient.layer({
      main: { ...base, timeout: "3 seconds", poolSize: 4 },
      slow: { ...base, timeout: "300 millis", poolSize: 1 },
      badpw: { ...base, password: "wrong" },
      idle: { ...base, idleTimeout: "1 second", poolSize: 1 },
      down: { ...base, port: downPort, timeout: "2 seconds" }
    })
    return Layer.merge(RouterOsProvisioner.layerFromClient(), Layer.empty).pipe(Layer.provideMerge(client))
  })
).pipe(Layer.provideMerge(TestServer.layer()))

layer(TestLayer, { timeout: 30_000, excludeTestServices: true })("RouterOsProvisioner against the RouterOS test server", (it) => {
  describe("ensureService", () => {
    it.effect("PPPoE: exactly one secret and one queue, with RouterOS values", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe({ profile: "plan-20m" })
        yield* router.ensureService("main", spec)
        const h = held(server, spec.serviceId)
        expect(h["/ppp/secret"]).toHaveLength(1)
        expect(h["/queue/simple"]).toHaveLength(1)
        expect(h["/ip/dhcp-server/lease"]).toHaveLength(0)
        expect(h["/ip/firewall/address-list"]).toHaveLength(0)
        expect(h["/ppp/secret"][0]).toMatchObject({
          name: spec.pppoeUsername,
          password: spec.pppoePassword,
          service: "pppoe",
          profile: "plan-20m",
          "remote-address": spec.address
        })
        // upload/download, in bit/s as RouterOS prints them
        expect(h["/queue/simple"][0]).toMatchObject({
          name: `svc-${spec.serviceNumber}`,
          target: `${spec.address}/32`,
          "max-limit": "5000000/20000000",
          "burst-limit": "0/0"
        })
      }))

    it.effect("DHCP: exactly one static lease and one queue", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = dhcp()
        yield* router.ensureService("main", spec)
        const h = held(server, spec.serviceId)
        expect(h["/ip/dhcp-server/lease"]).toHaveLength(1)
        expect(h["/ip/dhcp-server/lease"][0]).toMatchObject({
          "mac-address": spec.macAddress!.toUpperCase(),
          address: spec.address
        })
        expect(h["/queue/simple"]).toHaveLength(1)
        expect(h["/ppp/secret"]).toHaveLength(0)
      }))

    it.effect("run twice: still one of each, and the second run writes nothing", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        for (const spec of [pppoe({ suspended: "FULL" }), dhcp()]) {
          yield* router.ensureService("main", spec)
          const before = held(server, spec.serviceId)
          server.clearLog()
          yield* router.ensureService("main", spec)
          expect(writes(server)).toEqual([])
          expect(server.count("/queue/simple/print")).toBeGreaterThan(0)
          expect(held(server, spec.serviceId)).toEqual(before)
        }
      }))

    it.effect("a changed rate sends exactly one set, on the queue, with only the changed fields", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe()
        yield* router.ensureService("main", spec)
        server.clearLog()
        yield* router.ensureService("main", { ...spec, rate: { downloadKbps: 50_000, uploadKbps: 10_000 } })
        expect(writes(server)).toEqual(["/queue/simple/set"])
        expect(Object.keys(server.commands.find((c) => c.command === "/queue/simple/set")!.attributes)).toEqual([
          ".id",
          "max-limit"
        ])
        expect(held(server, spec.serviceId)["/queue/simple"][0]!["max-limit"]).toBe("10000000/50000000")
      }))

    it.effect("burst limit, threshold and time are set, and cleared when the burst goes away", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const burst = {
          downloadKbps: 40_000,
          uploadKbps: 8_000,
          thresholdDownloadKbps: 15_000,
          thresholdUploadKbps: 4_000,
          timeSeconds: 8
        }
        const spec = pppoe({ rate: { downloadKbps: 20_000, uploadKbps: 5_000, burst } })
        yield* router.ensureService("main", spec)
        expect(held(server, spec.serviceId)["/queue/simple"][0]).toMatchObject({
          "burst-limit": "8000000/40000000",
          "burst-threshold": "4000000/15000000",
          "burst-time": "8s/8s"
        })
        server.clearLog()
        yield* router.ensureService("main", spec)
        expect(writes(server)).toEqual([])
        yield* router.ensureService("main", { ...spec, rate: { downloadKbps: 20_000, uploadKbps: 5_000 } })
        expect(held(server, spec.serviceId)["/queue/simple"][0]).toMatchObject({
          "burst-limit": "0/0",
          "burst-threshold": "0/0",
          "burst-time": "0s/0s"
        })
      }))

    it.effect("FULL suspension adds the suspended address-list entry; resume removes it", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe()
        yield* router.ensureService("main", { ...spec, suspended: "FULL" })
        expect(held(server, spec.serviceId)["/ip/firewall/address-list"]).toEqual([
          expect.objectContaining({ list: "suspended", address: spec.address })
        ])
        yield* router.ensureService("main", { ...spec, suspended: "SPEED_LIMIT" })
        expect(held(server, spec.serviceId)["/ip/firewall/address-list"]).toEqual([])
        yield* router.ensureService("main", { ...spec, suspended: "FULL" })
        yield* router.ensureService("main", { ...spec, suspended: "NONE" })
        const h = held(server, spec.serviceId)
        expect(h["/ip/firewall/address-list"]).toEqual([])
        expect(h["/ppp/secret"]).toHaveLength(1)
        expect(h["/queue/simple"]).toHaveLength(1)
      }))

    it.effect("switching PPPoE → DHCP removes the secret and creates the lease", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe()
        yield* router.ensureService("main", spec)
        yield* router.ensureService("main", { ...dhcp(), serviceId: spec.serviceId, address: spec.address })
        const h = held(server, spec.serviceId)
        expect(h["/ppp/secret"]).toHaveLength(0)
        expect(h["/ip/dhcp-server/lease"]).toHaveLength(1)
        expect(h["/queue/simple"]).toHaveLength(1)
      }))

    it.effect("duplicates created out of band are removed, keeping one correct object", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe({ suspended: "FULL" })
        yield* router.ensureService("main", spec)
        const comment = `isp:${spec.serviceId}`
        server.insert("/queue/simple", { name: `copy-1-${spec.serviceNumber}`, target: "10.255.0.1/32", comment })
        server.insert("/queue/simple", { name: `copy-2-${spec.serviceNumber}`, target: "10.255.0.2/32", comment })
        server.insert("/ppp/secret", { name: `${spec.pppoeUsername}-dup`, password: "x", comment })
        server.insert("/ip/firewall/address-list", { list: "suspended", address: spec.address!, comment })
        yield* router.ensureService("main", spec)
        const h = held(server, spec.serviceId)
        expect(h["/queue/simple"]).toEqual([expect.objectContaining({ name: `svc-${spec.serviceNumber}` })])
        expect(h["/ppp/secret"]).toEqual([expect.objectContaining({ name: spec.pppoeUsername })])
        expect(h["/ip/firewall/address-list"]).toHaveLength(1)
      }))

    it.effect("an untagged object with the same name is adopted, not duplicated", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe()
        const id = server.insert("/queue/simple", {
          name: `svc-${spec.serviceNumber}`,
          target: "10.254.0.1/32",
          comment: "made by hand"
        })
        yield* router.ensureService("main", spec)
        const queues = server.table("/queue/simple").filter((q) => q.name === `svc-${spec.serviceNumber}`)
        expect(queues).toEqual([
          expect.objectContaining({ ".id": id, comment: `isp:${spec.serviceId}`, target: `${spec.address}/32` })
        ])
      }))

    it.effect("another service's secret with the same name is a RouterError carrying the trap message", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const first = pppoe()
        yield* router.ensureService("main", first)
        const second = pppoe({ pppoeUsername: first.pppoeUsername })
        const error = yield* Effect.flip(router.ensureService("main", second))
        expect(error._tag).toBe("RouterError")
        expect(error.routerId).toBe("main")
        expect(error.operation).toBe("ensureService")
        expect(error.reason).toBe("RouterTrap: /ppp/secret/add: failure: secret with the same name already exists")
        expect(held(server, first.serviceId)["/ppp/secret"]).toHaveLength(1)
        expect(held(server, second.serviceId)["/ppp/secret"]).toHaveLength(0)
      }))

    it.effect("a spec the router cannot express is refused before any command", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        server.clearLog()
        const error = yield* Effect.flip(router.ensureService("main", dhcp({ macAddress: null })))
        expect(error.reason).toMatch(/^RouterSpecInvalid: .*MAC/)
        expect(server.commands).toEqual([])
      }))
  })

  describe("removeService and inspectService", () => {
    it.effect("removeService leaves nothing tagged with the service; inspect shows the router's rows", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe({ suspended: "FULL" })
        const other = pppoe()
        yield* router.ensureService("main", spec)
        yield* router.ensureService("main", other)
        const state = yield* router.inspectService("main", spec.serviceId)
        expect(state.pppSecrets.map((r) => r.name)).toEqual([spec.pppoeUsername])
        expect(state.queues.map((r) => r["max-limit"])).toEqual(["5000000/20000000"])
        expect(state.addressListEntries.map((r) => r.list)).toEqual(["suspended"])
        expect(state.dhcpLeases).toEqual([])

        yield* router.removeService("main", spec.serviceId)
        expect(Object.values(held(server, spec.serviceId)).flat()).toEqual([])
        expect(yield* router.inspectService("main", spec.serviceId)).toEqual({
          pppSecrets: [],
          dhcpLeases: [],
          queues: [],
          addressListEntries: []
        })
        // the neighbour is untouched, and removing again is a no-op
        expect(Object.values(held(server, other.serviceId)).flat()).toHaveLength(2)
        server.clearLog()
        yield* router.removeService("main", spec.serviceId)
        expect(writes(server)).toEqual([])
      }))
  })

  describe("faults", () => {
    it.effect("the router drops the connection mid-step: the call fails, the next reconnects and completes", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const noRetry = yield* RouterOsProvisioner.make({ reconnectRetries: 0 })
        const spec = pppoe()
        const accepted = server.acceptedConnections
        // The router applies the add, then the connection dies before the reply.
        server.dropOn("/queue/simple/add", { when: "after" })
        const error = yield* Effect.flip(noRetry.ensureService("main", spec))
        expect(error.reason).toMatch(/^RouterUnreachable: /)
        expect(held(server, spec.serviceId)["/queue/simple"]).toHaveLength(1)
        yield* noRetry.ensureService("main", spec)
        expect(server.acceptedConnections).toBeGreaterThan(accepted)
        const h = held(server, spec.serviceId)
        expect(h["/queue/simple"]).toHaveLength(1)
        expect(h["/ppp/secret"]).toHaveLength(1)
      }))

    it.effect("with the default retry, a drop mid-step is absorbed by the same call", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = dhcp({ suspended: "FULL" })
        server.dropOn("/ip/firewall/address-list/add", { when: "after" })
        yield* router.ensureService("main", spec)
        const h = held(server, spec.serviceId)
        expect(h["/ip/dhcp-server/lease"]).toHaveLength(1)
        expect(h["/queue/simple"]).toHaveLength(1)
        expect(h["/ip/firewall/address-list"]).toHaveLength(1)
      }))

    it.effect("connections dropped while idle in the pool are replaced", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        yield* router.ensureService("main", pppoe())
        server.dropAllConnections()
        yield* Effect.sleep("50 millis")
        const spec = pppoe()
        yield* router.ensureService("main", spec)
        expect(held(server, spec.serviceId)["/ppp/secret"]).toHaveLength(1)
      }))

    it.effect("a hung router fails with RouterTimeout within the configured timeout; the next call works", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const spec = pppoe()
        server.hang("/ppp/secret/print", 1)
        const started = Date.now()
        const error = yield* Effect.flip(router.ensureService("slow", spec))
        const elapsed = Date.now() - started
        expect(error.reason).toMatch(/^RouterTimeout: .*\/ppp\/secret\/print timed out after 300 ms/)
        expect(elapsed).toBeGreaterThanOrEqual(250)
        expect(elapsed).toBeLessThan(1500)
        yield* router.ensureService("slow", spec)
        expect(held(server, spec.serviceId)["/ppp/secret"]).toHaveLength(1)
      }))

    it.effect("a router that never answers the login times out on connect", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        // no pooled connection may be reused: the next call must log in
        server.dropAllConnections()
        yield* Effect.sleep("20 millis")
        server.hang("/login", 1)
        const error = yield* Effect.flip(router.inspectService("slow", randomUUID() as ServiceId))
        expect(error.reason).toMatch(/^RouterTimeout: .*connect timed out/)
      }))

    it.effect("a bad login is a typed error", () =>
      Effect.gen(function*() {
        const router = yield* RouterProvisioner
        const client = yield* RouterOsClient.RouterOsClient
        const error = yield* Effect.flip(router.ensureService("badpw", pppoe()))
        expect(error.reason).toMatch(/^RouterLoginFailed: /)
        const typed = yield* Effect.flip(client.command("badpw", "/system/identity/print"))
        expect(typed._tag).toBe("RouterLoginFailed")
      }))

    it.effect("rejected logins, then accepted again", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const client = yield* RouterOsClient.RouterOsClient
        server.dropAllConnections()
        server.rejectLogins()
        const typed = yield* Effect.flip(client.command("main", "/system/identity/print"))
        expect(typed._tag).toBe("RouterLoginFailed")
        server.rejectLogins(false)
        expect(yield* client.command("main", "/system/identity/print")).toEqual([{ name: "RouterOsTestServer" }])
      }))

    it.effect("a !trap is a typed RouterTrap with the router's message; the connection stays usable", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const client = yield* RouterOsClient.RouterOsClient
        const router = yield* RouterProvisioner
        server.trapOn("/queue/simple/add", "failure: not enough memory", { category: 4 })
        const accepted = server.acceptedConnections
        const error = yield* Effect.flip(
          client.withConnection("main", (s) =>
            s.command("/queue/simple/add", ["=name=trap-test", "=target=10.250.0.1"]).pipe(
              Effect.flip,
              Effect.tap(() => s.command("/system/identity/print"))
            ).pipe(Effect.flip))
        )
        expect(error).toMatchObject({
          _tag: "RouterTrap",
          routerId: "main",
          command: "/queue/simple/add",
          message: "failure: not enough memory"
        })
        expect(server.acceptedConnections).toBe(accepted)
        server.trapOn("/queue/simple/add", "failure: not enough memory")
        const portError = yield* Effect.flip(router.ensureService("main", pppoe()))
        expect(portError.reason).toBe("RouterTrap: /queue/simple/add: failure: not enough memory")
      }))

    it.effect("an unreachable router and an unknown router are typed errors", () =>
      Effect.gen(function*() {
        const router = yield* RouterProvisioner
        const client = yield* RouterOsClient.RouterOsClient
        const down = yield* Effect.flip(client.command("down", "/system/identity/print"))
        expect(down._tag).toBe("RouterUnreachable")
        expect((down as { reason: string }).reason).toMatch(/ECONNREFUSED/)
        const error = yield* Effect.flip(router.ensureService("down", pppoe()))
        expect(error.reason).toMatch(/^RouterUnreachable: /)
        const unknown = yield* Effect.flip(router.inspectService("nope", randomUUID() as ServiceId))
        expect(unknown.reason).toMatch(/^RouterNotConfigured: /)
      }))

    it.effect("an idle connection closed by its socket timeout raises an error event that crashes nothing", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        yield* router.ensureService("idle", pppoe())
        const accepted = server.acceptedConnections
        yield* Effect.sleep("2500 millis")
        const spec = pppoe()
        yield* router.ensureService("idle", spec)
        expect(server.acceptedConnections).toBe(accepted + 1)
        expect(held(server, spec.serviceId)["/queue/simple"]).toHaveLength(1)
      }), { timeout: 10_000 })
  })

  describe("concurrency", () => {
    it.effect("50 concurrent ensureService calls over a pool of 4: every object exactly once", () =>
      Effect.gen(function*() {
        const server = yield* RouterOsTestServerTag
        const router = yield* RouterProvisioner
        const specs = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? pppoe({ suspended: i % 3 === 0 ? "FULL" : "NONE" }) : dhcp()))
        server.dropAllConnections()
        yield* Effect.sleep("20 millis")
        const accepted = server.acceptedConnections
        yield* Effect.forEach(specs, (spec) => router.ensureService("main", spec), { concurrency: "unbounded" })
        // and again, concurrently: nothing new
        yield* Effect.forEach(specs, (spec) => router.ensureService("main", spec), { concurrency: "unbounded" })
        expect(server.acceptedConnections - accepted).toBeLessThanOrEqual(4)
        for (const spec of specs) {
          const h = held(server, spec.serviceId)
          expect(h["/queue/simple"]).toHaveLength(1)
          expect(h[spec.connectionType === "PPPOE" ? "/ppp/secret" : "/ip/dhcp-server/lease"]).toHaveLength(1)
          expect(h["/ip/firewall/address-list"]).toHaveLength(spec.suspended === "FULL" ? 1 : 0)
        }
        const names = server.table("/queue/simple").map((q) => q.name)
        expect(new Set(names).size).toBe(names.length)
      }))
  })
})

describe("SimulatedRouterProvisioner", () => {
  it.effect("holds what a router would hold, idempotently, and forgets on remove", () =>
    Effect.gen(function*() {
      const router = yield* SimulatedRouterProvisioner.make({ routers: ["r1"] })
      const spec = pppoe({ suspended: "FULL" })
      yield* router.ensureService("r1", spec)
      yield* router.ensureService("r1", spec)
      const state = yield* router.inspectService("r1", spec.serviceId)
      expect(state.pppSecrets).toEqual([expect.objectContaining({ name: spec.pppoeUsername, comment: `isp:${spec.serviceId}` })])
      expect(state.queues).toEqual([expect.objectContaining({ "max-limit": "5000k/20000k" })])
      expect(state.addressListEntries).toEqual([expect.objectContaining({ list: "suspended", address: spec.address })])
      yield* router.removeService("r1", spec.serviceId)
      expect((yield* router.inspectService("r1", spec.serviceId)).queues).toEqual([])
      const error = yield* Effect.flip(router.ensureService("r2", spec))
      expect(error.reason).toMatch(/RouterNotConfigured/)
    }))
})
