/**
 * The core migrations, in order. Keys are `<number>_<name>`; numbers only ever grow: the migrator runs
 * every entry whose number is above the highest one already recorded, so never insert below it.
 * Add an entry here for each new `NNNN_name.ts` file (default export: an Effect needing `SqlClient`).
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import type { Effect } from "effect/Effect"
import _0001_extensions from "./0001_extensions.js"
import _0002_services from "./0002_services.js"
import _0003_ip_pools from "./0003_ip_pools.js"
import _0004_usage from "./0004_usage.js"
import _0005_api_tokens from "./0005_api_tokens.js"
import _0006_usage_hot_path from "./0006_usage_hot_path.js"

export const migrations: Record<string, Effect<unknown, unknown, SqlClient>> = {
  "0001_extensions": _0001_extensions,
  "0002_services": _0002_services,
  "0003_ip_pools": _0003_ip_pools,
  "0004_usage": _0004_usage,
  "0005_api_tokens": _0005_api_tokens,
  "0006_usage_hot_path": _0006_usage_hot_path
}
