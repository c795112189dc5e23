/** FreeRADIUS's `radclient` as a real accounting peer for tests. */
import { Effect } from "effect"
import { spawn } from "node:child_process"

/** Runs `radclient -x host:port acct secret` with attributes on stdin; resolves with its output and exit code. */
export const radclientAcct = (port: number, secret: string, attrs: ReadonlyArray<readonly [string, string | number]>) =>
  Effect.async<{ readonly code: number | null; readonly out: string }>((resume) => {
    const child = spawn("radclient", ["-x", "-r", "1", "-t", "1", `127.0.0.1:${port}`, "acct", secret])
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    // Without FreeRADIUS's utilities installed (.ci/run installs them) fail at once, saying so.
    child.on("error", (error) =>
      resume(Effect.dieMessage(`radclient could not run (${error.message}): install freeradius-utils`)))
    child.on("close", (code) => resume(Effect.succeed({ code, out })))
    child.stdin.end(attrs.map(([k, v]) => `${k} = ${typeof v === "number" ? v : `"${v}"`}`).join("\n") + "\n")
  })
