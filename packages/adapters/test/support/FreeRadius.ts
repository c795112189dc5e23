/**
 * A real FreeRADIUS 3.2 for tests: a private raddb (stock `/etc/freeradius/3.0` + the repository's
 * overrides, see `src/radius/FreeradiusConfig.ts`) in a temp directory, `rlm_sql` pointed at the
 * test's own PostgreSQL database, listening on 127.0.0.1 on free auth/acct ports. Started with
 * `freeradius -X` (ready in well under a second), stopped when the scope closes.
 *
 * ```ts
 * const server = Layer.unwrapEffect(Effect.map(TestDatabaseInfo, (info) =>
 *   FreeRadius.layer({ database: info.databaseName! })))
 * const reply = yield* (yield* FreeRadiusServer).radclient("auth", [["User-Name", "alice"], ["User-Password", "pw"]])
 * expect(reply.code).toBe("Access-Accept")
 * expect(reply.get("Mikrotik-Rate-Limit")).toBe("5M/5M")
 * ```
 *
 * The full server log (`-X` output) is at `<dir>/log/radiusd.out`; its tail is in every start error.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as Dgram from "node:dgram"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { writeRaddb } from "../../src/radius/FreeradiusConfig.js"

export interface Options {
  /** The PostgreSQL database FreeRADIUS reads (it must hold the FreeRADIUS schema). */
  readonly database: string
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly user?: string | undefined
  readonly password?: string | undefined
  /** Shared secret of the 127.0.0.1 client (default "testing123"). */
  readonly secret?: string | undefined
}

/** One reply attribute as radclient prints it (quotes removed). */
export interface ReplyAttribute {
  readonly name: string
  readonly value: string
}

export interface RadclientReply {
  /** "Access-Accept", "Access-Reject", "Accounting-Response", ... */
  readonly code: string
  readonly attributes: ReadonlyArray<ReplyAttribute>
  /** First value of an attribute, if present. */
  readonly get: (name: string) => string | undefined
  /** radclient's whole output. */
  readonly output: string
}

export class FreeRadiusError extends Data.TaggedError("FreeRadiusError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

export type PacketType = "auth" | "acct" | "status" | "coa" | "disconnect"

export interface FreeRadius {
  readonly host: string
  readonly authPort: number
  readonly acctPort: number
  readonly secret: string
  /** The private raddb directory. */
  readonly dir: string
  /**
   * Runs FreeRADIUS's own `radclient` against this server (auth/acct/status to its ports; coa and
   * disconnect need `target`) and parses the reply.
   */
  readonly radclient: (
    packetType: PacketType,
    attributes: ReadonlyArray<readonly [string, string | number]>,
    options?: { readonly target?: { readonly host: string; readonly port: number; readonly secret: string } }
  ) => Effect.Effect<RadclientReply, FreeRadiusError>
  /** The server's debug output so far. */
  readonly log: Effect.Effect<string>
}

export class FreeRadiusServer extends Context.Tag("@isp-framework/adapters/test/FreeRadiusServer")<
  FreeRadiusServer,
  FreeRadius
>() {}

/** A UDP port free on 127.0.0.1 right now. */
const freePort = Effect.async<number>((resume) => {
  const socket = Dgram.createSocket("udp4")
  socket.bind(0, "127.0.0.1", () => {
    const { port } = socket.address()
    socket.close(() => resume(Effect.succeed(port)))
  })
})

const tail = (text: string, lines = 40) => text.split("\n").slice(-lines).join("\n")

/** Formats a value for radclient's attribute list. */
const radclientValue = (value: string | number) =>
  typeof value === "number" ? String(value) : `"${value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`

/** Parses `radclient -x` output: the `Received <Code> Id ...` line and the indented attributes after it. */
export const parseRadclient = (output: string): RadclientReply | undefined => {
  const lines = output.split("\n")
  const start = lines.findIndex((line) => /^Received \S+ Id /.test(line))
  if (start < 0) return undefined
  const code = lines[start]!.split(" ")[1]!
  const attributes: Array<ReplyAttribute> = []
  for (const line of lines.slice(start + 1)) {
    const match = /^\s+([A-Za-z0-9-]+)\s+=\s+(.*)$/.exec(line)
    if (!match) break
    const raw = match[2]!.trim()
    attributes.push({ name: match[1]!, value: raw.startsWith("\"") && raw.endsWith("\"") ? raw.slice(1, -1) : raw })
  }
  return { code, attributes, get: (name) => attributes.find((a) => a.name === name)?.value, output }
}

const runRadclient = (args: ReadonlyArray<string>, input: string) =>
  Effect.async<string, FreeRadiusError>((resume) => {
    const child = spawn("radclient", [...args], { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("error", (error) => resume(Effect.fail(new FreeRadiusError({ reason: `radclient: ${error.message}` }))))
    child.on("close", () => resume(Effect.succeed(output)))
    child.stdin.end(input)
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

/** Starts one server on the given ports; fails (with the log tail) if it exits or is not ready in 20 s. */
const start = (dir: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly child: ReturnType<typeof spawn>; readonly output: () => string }, FreeRadiusError>(
      (resume) => {
        const logFile = Fs.createWriteStream(Path.join(dir, "log", "radiusd.out"))
        let output = ""
        let settled = false
        const child = spawn("freeradius", ["-X", "-d", dir], { stdio: ["ignore", "pipe", "pipe"] })
        const settle = (effect: Parameters<typeof resume>[0]) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(effect)
        }
        const onData = (chunk: Buffer) => {
          logFile.write(chunk)
          // Keep a bounded copy in memory: -X is chatty.
          output = (output + chunk.toString()).slice(-200_000)
          if (output.includes("Ready to process requests")) {
            settle(Effect.succeed({ child, output: () => output }))
          }
        }
        child.stdout!.on("data", onData)
        child.stderr!.on("data", onData)
        child.on("error", (error) => settle(Effect.fail(new FreeRadiusError({ reason: `freeradius: ${error.message}` }))))
        child.on("exit", (code) => {
          logFile.end()
          settle(Effect.fail(new FreeRadiusError({ reason: `freeradius exited (${code}):\n${tail(output)}` })))
        })
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          settle(Effect.fail(new FreeRadiusError({ reason: `freeradius not ready after 20 s:\n${tail(output)}` })))
        }, 20_000)
      }
    ),
    ({ child }) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        const timer = setTimeout(() => child.kill("SIGKILL"), 3_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resume(Effect.void)
        })
        child.kill("SIGTERM")
      })
  )

/** Builds the raddb and starts FreeRADIUS (retrying with new ports if one was taken meanwhile). */
export const make = (options: Options): Effect.Effect<FreeRadius, FreeRadiusError, Scope.Scope> =>
  Effect.gen(function*() {
    const secret = options.secret ?? "testing123"
    const host = "127.0.0.1"
    const root = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "isp-freeradius-"))),
      (root) => Effect.sync(() => Fs.rmSync(root, { recursive: true, force: true }))
    )
    const attempt = (n: number) =>
      Effect.gen(function*() {
        const authPort = yield* freePort
        let acctPort = yield* freePort
        while (acctPort === authPort) acctPort = yield* freePort
        const dir = yield* writeRaddb({
          targetDir: Path.join(root, `raddb-${n}`),
          authPort,
          acctPort,
          clientSecret: secret,
          rejectDelay: 0,
          database: {
            name: options.database,
            host: options.host,
            port: options.port,
            user: options.user,
            password: options.password
          }
        }).pipe(Effect.mapError((error) => new FreeRadiusError({ reason: error.message })))
        const server = yield* start(dir)
        return { authPort, acctPort, dir, server }
      })
    let n = 0
    const { authPort, acctPort, dir, server } = yield* Effect.suspend(() => attempt(n++)).pipe(
      Effect.retry({ times: 2, while: (error) => error.reason.includes("Address already in use") })
    )

    const radclient: FreeRadius["radclient"] = (packetType, attributes, radclientOptions) => {
      const target = radclientOptions?.target
      const address = target !== undefined
        ? `${target.host}:${target.port}`
        : `${host}:${packetType === "acct" ? acctPort : authPort}`
      const input = attributes.map(([name, value]) => `${name} = ${radclientValue(value)}`).join("\n") + "\n"
      return runRadclient(["-x", "-r", "1", "-t", "3", address, packetType, target?.secret ?? secret], input).pipe(
        Effect.flatMap((output) => {
          const reply = parseRadclient(output)
          return reply === undefined
            ? Effect.fail(new FreeRadiusError({ reason: `radclient got no reply:\n${output}\n--- server log:\n${tail(server.output())}` }))
            : Effect.succeed(reply)
        }),
        Effect.withSpan("FreeRadius.radclient")
      )
    }

    return { host, authPort, acctPort, secret, dir, radclient, log: Effect.sync(server.output) } satisfies FreeRadius
  })

/** The server as a Layer; setup failures are defects (the suite fails with the log tail). */
export const layer = (options: Options): Layer.Layer<FreeRadiusServer> =>
  Layer.scoped(FreeRadiusServer, make(options)).pipe(Layer.orDie)
