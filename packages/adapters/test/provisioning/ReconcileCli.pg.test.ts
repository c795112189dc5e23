/**
 * The reconcile CLI against a real database and the RouterOS test server: drift injected in the
 * FreeRADIUS rows is reported (exit 1) and `--repair` fixes it (exit 0).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { ServiceProvisioning } from "@isp-framework/core"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { RouterOsTestServerTag } from "../support/RouterOsTestServer.js"
import { TestDatabaseInfo } from "../support/TestDatabase.js"
import { expectNoDrift, finish, pppoeRequest, realPostgres, ROUTER_ID, setupPlan, stack } from "./support.js"

const cli = fileURLToPath(new URL("../../src/bin/reconcile.ts", import.meta.url))

const run = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], { env: { ...process.env, ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c) => (stdout += c))
    child.stderr.on("data", (c) => (stderr += c))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

describe.skipIf(!realPostgres)("reconcile CLI", () => {
  layer(stack(), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("reports drift with exit 1, repairs it with --repair", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const info = yield* TestDatabaseInfo
        const router = yield* RouterOsTestServerTag
        const { template } = yield* setupPlan({ cidr: "10.70.0.0/24" })
        const started = yield* (yield* ServiceProvisioning).provisionInternet(pppoeRequest(template.id, "cli"))
        yield* finish(started)
        yield* sql`UPDATE radreply SET value = '1k/1k' WHERE username = 'usercli@isp.net' AND attribute = 'Mikrotik-Rate-Limit'`
        const env = {
          DATABASE_URL: info.url!,
          RADIUS_MODE: "sql",
          ROUTEROS_ROUTERS: JSON.stringify({ [ROUTER_ID]: { host: router.host, port: router.port, user: "admin", password: "secret" } })
        }
        const check = yield* run(["status=ACTIVE"], env)
        expect(check.code, check.stderr).toBe(1)
        const summary = JSON.parse(check.stdout)
        expect(summary.checked).toBe(1)
        expect(summary.drifted[0].drift).toEqual([
          expect.objectContaining({ _tag: "RadiusAttributeMismatch", attribute: "Mikrotik-Rate-Limit", actual: "1k/1k" })
        ])
        const repair = yield* run(["--repair", "status=ACTIVE"], env)
        expect(repair.code, repair.stderr).toBe(0)
        expect(JSON.parse(repair.stdout).unrepaired).toEqual([])
        yield* expectNoDrift(started.service.id)
        expect((yield* run(["--nope"], env)).code).toBe(2)
      }), 90_000)
  })
})
