import { Effect } from "effect"
import { RouterProvisioner } from "@isp-framework/core"
import * as RouterOsClient from "../../src/routeros/RouterOsClient.js"
import * as RouterOsProvisioner from "../../src/routeros/RouterOsProvisioner.js"
import { RouterOsTestServer } from "../support/RouterOsTestServer.js"
import { randomUUID } from "node:crypto"
const server = await RouterOsTestServer.start()
const routers = { main: { host: "127.0.0.1", port: server.port, user: "admin", password: "secret", poolSize: 4 } }
await Effect.runPromise(Effect.gen(function*() {
  const client = yield* RouterOsClient.RouterOsClient
  for (let round = 0; round < 3; round++) {
    let t = Date.now()
    yield* client.withConnection("main", (s) => Effect.forEach(Array.from({ length: 200 }), () => s.command("/queue/simple/print", ["?comment=x"])))
    console.log("200 seq in one session ms", Date.now() - t)
    t = Date.now()
    yield* Effect.forEach(Array.from({ length: 4 }), () => client.withConnection("main", (s) => Effect.forEach(Array.from({ length: 200 }), () => s.command("/queue/simple/print", ["?comment=x"]))), { concurrency: "unbounded" })
    console.log("4x200 concurrent sessions ms", Date.now() - t)
    t = Date.now()
    yield* Effect.forEach(Array.from({ length: 800 }), () => client.command("main", "/queue/simple/print", ["?comment=x"]), { concurrency: "unbounded" })
    console.log("800 unbounded commands ms", Date.now() - t)
  }
}).pipe(Effect.provide(RouterOsClient.layer(routers))))
await Effect.runPromise(Effect.gen(function*() {
  const router = yield* RouterProvisioner
  const mk = (i: number) => ({ serviceId: randomUUID() as any, serviceNumber: `S${i}`, connectionType: "PPPOE" as const, pppoeUsername: `u${i}`, pppoePassword: "p", macAddress: null, address: `10.0.${i >> 8}.${i & 255}`, rate: { downloadKbps: 1000, uploadKbps: 500 }, profile: null, suspended: "NONE" as const })
  for (let round = 0; round < 3; round++) {
    let t = Date.now()
    for (let i = 0; i < 20; i++) yield* router.ensureService("main", mk(round * 1000 + i))
    console.log("sequential ms/ensure", (Date.now() - t) / 20)
    t = Date.now()
    yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => mk(round * 1000 + 100 + i)), (s) => router.ensureService("main", s), { concurrency: "unbounded" })
    console.log("200 concurrent ensure ms", Date.now() - t)
  }
}).pipe(Effect.provide(RouterOsProvisioner.layer(routers))))
await server.stop()
