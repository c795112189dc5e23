/**
 * `npm run bench [-- suite ...]`: runs each benchmark suite in its own process (so one suite's
 * pools and heap do not skew the next) and passes its `bench …` / `ratio …` lines through.
 * Every suite measures its own baseline in the same run; compare ratios, not absolute figures.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const all = ["ip-pool", "search", "provision", "acct-ingest", "acct-udp", "http"]
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"))
const suites = wanted.length > 0 ? wanted : all

let failed = 0
for (const suite of suites) {
  const file = join(here, `${suite}.ts`)
  if (!existsSync(file)) {
    console.error(`unknown bench suite: ${suite} (have: ${all.filter((s) => existsSync(join(here, `${s}.ts`))).join(", ")})`)
    failed++
    continue
  }
  console.log(`# ${suite}`)
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { stdio: "inherit", env: process.env })
  if (r.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
