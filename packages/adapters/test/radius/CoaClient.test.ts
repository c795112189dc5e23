/**
 * The RFC 5176 client against a NAS stub on loopback, and the stub / codec against FreeRADIUS's own
 * `radclient` (so both signing directions are checked by an independent implementation).
 */
import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { spawn, spawnSync } from "node:child_process"
import * as CoaClient from "../../src/radius/CoaClient.js"
import * as NasStub from "../support/NasStub.js"

const SECRET = "coa-s3cret"

const clientLayer = CoaClient.layer({ timeout: "150 millis", retries: 2 })
const TestLayer = Layer.merge(clientLayer, NasStub.layer({ secret: SECRET }))

const fresh = Effect.gen(function*() {
  const nas = yield* NasStub.NasStubService
  yield* nas.clear
  yield* nas.setSecret(SECRET)
  yield* nas.setMessageAuthenticator(false)
  yield* nas.respondWith(NasStub.ack)
  return { nas, client: yield* CoaClient.CoaClient }
})

// Live clock: timeouts and retransmissions run in real time against real sockets.
layer(TestLayer, { excludeTestServices: true })("CoaClient against a NAS stub", (it) => {
  {
    it.effect("sends a CoA with the MikroTik rate and gets an ACK", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        const result = yield* client.changeRate(nas.endpoint, {
          userName: "alice",
          framedIp: "100.64.0.17",
          sessionId: "81000001",
          rateLimit: "2M/2M",
          addressList: "suspended"
        })
        expect(result._tag).toBe("CoaAck")
        expect(result.code).toBe("CoA-ACK")
        const requests = yield* nas.requests
        expect(requests).toHaveLength(1)
        const [request] = requests
        expect(request!.kind).toBe("CoA")
        expect(request!.authentic).toBe(true)
        expect(request!.hasMessageAuthenticator).toBe(true)
        expect(request!.attributes["User-Name"]).toBe("alice")
        expect(request!.attributes["Framed-IP-Address"]).toBe("100.64.0.17")
        expect(request!.attributes["Acct-Session-Id"]).toBe("81000001")
        expect(request!.vendor["Mikrotik-Rate-Limit"]).toBe("2M/2M")
        expect(request!.vendor["Mikrotik-Address-List"]).toBe("suspended")
      }))

    it.effect("sends a Disconnect-Request and accepts an answer carrying a Message-Authenticator", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.setMessageAuthenticator(true)
        const result = yield* client.disconnect(nas.endpoint, { userName: "bob", sessionId: "81000002" })
        expect(result).toMatchObject({ _tag: "CoaAck", code: "Disconnect-ACK" })
        const [request] = yield* nas.requests
        expect(request!.kind).toBe("Disconnect")
        expect(request!.attributes["User-Name"]).toBe("bob")
        expect(request!.vendor).toEqual({})
      }))

    it.effect("decodes a NAK's Error-Cause", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.respondWith(NasStub.nak(503))
        const result = yield* client.changeRate(nas.endpoint, { userName: "carol", rateLimit: "1M/1M" })
        expect(result).toMatchObject({
          _tag: "CoaNak",
          code: "CoA-NAK",
          errorCause: 503,
          errorCauseName: "Session-Context-Not-Found"
        })
        const disconnect = yield* client.disconnect(nas.endpoint, { userName: "carol" })
        expect(disconnect).toMatchObject({ _tag: "CoaNak", code: "Disconnect-NAK", errorCause: 503 })
      }))

    it.effect("a NAK without Error-Cause has none", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.respondWith(NasStub.nak())
        const result = yield* client.disconnect(nas.endpoint, { userName: "dave" })
        expect(result._tag).toBe("CoaNak")
        expect(result._tag === "CoaNak" && result.errorCause).toBeUndefined()
      }))

    it.effect("retransmits the same packet and times out after 1 + retries attempts", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.respondWith(NasStub.silent)
        const error = yield* Effect.flip(client.changeRate(nas.endpoint, { userName: "erin", rateLimit: "1M/1M" }))
        expect(error).toMatchObject({ _tag: "RadiusTimeout", attempts: 3, nas: `${nas.host}:${nas.port}` })
        const requests = yield* nas.requests
        expect(requests).toHaveLength(3)
        expect(new Set(requests.map((r) => r.identifier)).size).toBe(1)
        expect(requests.map((r) => r.copy)).toEqual([1, 2, 3])
      }))

    it.effect("succeeds when the NAS answers only a retransmission", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.respondWithFn((request) => request.copy < 2 ? NasStub.silent : NasStub.ack)
        const result = yield* client.disconnect(nas.endpoint, { userName: "frank" })
        expect(result._tag).toBe("CoaAck")
        expect(yield* nas.requests).toHaveLength(2)
      }))

    it.effect("matches concurrent answers to their requests by identifier, whatever the answer order", () =>
      Effect.gen(function*() {
        const { nas } = yield* fresh
        // Patient enough that no request is retransmitted while its delayed answer is on the way.
        const client = yield* CoaClient.make({ timeout: "3 seconds", retries: 0 })
        // User n is answered after (40 - n) * 5 ms, so answers come back in reverse order; even users get a NAK
        // whose Error-Cause encodes n, so a mismatched answer would show.
        yield* nas.respondWithFn((request) => {
          const n = Number(String(request.attributes["User-Name"]).slice(1))
          return { answer: n % 2 === 0 ? NasStub.nak(1000 + n) : NasStub.ack, delayMs: (40 - n) * 5 }
        })
        const results = yield* Effect.forEach(
          Array.from({ length: 40 }, (_, n) => n),
          (n) => client.changeRate(nas.endpoint, { userName: `u${n}`, rateLimit: `${n + 1}M/${n + 1}M` }),
          { concurrency: "unbounded" }
        )
        results.forEach((result, n) => {
          if (n % 2 === 0) expect(result).toMatchObject({ _tag: "CoaNak", errorCause: 1000 + n })
          else expect(result._tag).toBe("CoaAck")
        })
        const requests = yield* nas.requests
        expect(requests).toHaveLength(40)
        expect(new Set(requests.map((r) => r.identifier)).size).toBe(40)
      }).pipe(Effect.scoped), { timeout: 20_000 })

    it.effect("more than 256 concurrent requests to one NAS wait for identifiers instead of colliding", () =>
      Effect.gen(function*() {
        const { nas } = yield* fresh
        const client = yield* CoaClient.make({ timeout: "5 seconds", retries: 0 })
        yield* nas.respondWithFn(() => ({ answer: NasStub.ack, delayMs: 20 }))
        const results = yield* Effect.forEach(
          Array.from({ length: 300 }, (_, n) => n),
          (n) => client.disconnect(nas.endpoint, { userName: `v${n}` }),
          { concurrency: "unbounded" }
        )
        expect(results.every((r) => r._tag === "CoaAck")).toBe(true)
        const requests = yield* nas.requests
        expect(requests.every((r) => r.copy === 1)).toBe(true)
        expect(new Set(requests.map((r) => r.attributes["User-Name"])).size).toBe(300)
      }).pipe(Effect.scoped), { timeout: 20_000 })

    it.effect("an answer signed with another secret is an invalid response, not an ACK", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        yield* nas.setSecret("not-the-client-secret")
        const error = yield* Effect.flip(client.changeRate(nas.endpoint, { userName: "gina", rateLimit: "1M/1M" }))
        expect(error._tag).toBe("RadiusInvalidResponse")
        expect(error.message).toContain("Authenticator mismatch")
        const [request] = yield* nas.requests
        expect(request!.authentic).toBe(false)
      }))

    it.effect("fails unencodable attributes before sending", () =>
      Effect.gen(function*() {
        const { client, nas } = yield* fresh
        const exit = yield* Effect.exit(client.request(nas.endpoint, "CoA-Request", [["No-Such-Attribute", "x"]]))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(JSON.stringify(exit)).toContain("RadiusRequestError")
        expect(yield* nas.requests).toHaveLength(0)
      }))
  }
})

const radclientInstalled = spawnSync("radclient", ["-v"]).status === 0

describe.skipIf(!radclientInstalled)("NAS stub and codec against FreeRADIUS's radclient", () => {
  layer(NasStub.layer({ secret: SECRET }), { excludeTestServices: true })((it) => {
    const radclient = (port: number, type: "coa" | "disconnect", secret: string, input: string) =>
      // Asynchronous: the stub answers from this process's event loop.
      Effect.async<string>((resume) => {
        const child = spawn("radclient", ["-x", "-r", "1", "-t", "2", `127.0.0.1:${port}`, type, secret])
        let output = ""
        child.stdout.on("data", (chunk) => (output += chunk))
        child.stderr.on("data", (chunk) => (output += chunk))
        child.on("close", () => resume(Effect.succeed(output)))
        child.stdin.end(input)
      })

    it.effect("a radclient CoA with Message-Authenticator verifies, and radclient accepts the stub's ACK", () =>
      Effect.gen(function*() {
        const nas = yield* NasStub.NasStubService
        yield* nas.clear
        yield* nas.respondWith(NasStub.ack)
        const output = yield* radclient(
          nas.port,
          "coa",
          SECRET,
          "User-Name = \"alice\"\nMikrotik-Rate-Limit = \"2M/2M\"\nMessage-Authenticator = 0x00\n"
        )
        expect(output).toMatch(/Received CoA-ACK Id \d+/)
        const [request] = yield* nas.requests
        expect(request).toMatchObject({ kind: "CoA", authentic: true, hasMessageAuthenticator: true })
        expect(request!.vendor["Mikrotik-Rate-Limit"]).toBe("2M/2M")
      }))

    it.effect("radclient decodes the stub's Disconnect-NAK Error-Cause (response signed with Message-Authenticator)", () =>
      Effect.gen(function*() {
        const nas = yield* NasStub.NasStubService
        yield* nas.clear
        yield* nas.setMessageAuthenticator(true)
        yield* nas.respondWith(NasStub.nak(503))
        const output = yield* radclient(nas.port, "disconnect", SECRET, "User-Name = \"bob\"\nMessage-Authenticator = 0x00\n")
        expect(output).toMatch(/Received Disconnect-NAK Id \d+/)
        expect(output).toMatch(/Error-Cause = Session-Context-Not-Found/)
      }))

    it.effect("a radclient request with the wrong secret is not authentic", () =>
      Effect.gen(function*() {
        const nas = yield* NasStub.NasStubService
        yield* nas.clear
        yield* nas.respondWith(NasStub.silent)
        yield* radclient(nas.port, "coa", "wrong", "User-Name = \"eve\"\n")
        const [request] = yield* nas.requests
        expect(request!.authentic).toBe(false)
      }), { timeout: 20_000 })
  })
})
