/**
 * Translates what a RouterOS router prints into the canonical object shapes of
 * `Desired.routerObjects`, so the `Reconciler` (which compares field by field) sees meanings, not
 * RouterOS spellings: the RouterOS adapter tags objects `comment=isp:<serviceId>` and names queues
 * `svc-<serviceNumber>`, and the router prints rates in bit/s (`2000000/10000000`) where the desired
 * state says `2000k/10000k`. Only representations are translated: a value that means something else
 * (another rate, a renamed queue) still differs, so real drift is still reported.
 *
 * @since 0.1.0
 */
import { RouterProvisioner, type RouterServiceState } from "@isp-framework/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * How the router adapter spells its objects.
 *
 * @since 0.1.0
 */
export interface CanonicalOptions {
  /** Prefix of the identity comment (RouterOsProvisioner default `isp:`). */
  readonly commentPrefix?: string | undefined
  /** Prefix of queue names (RouterOsProvisioner: `svc-`). */
  readonly queuePrefix?: string | undefined
}

const RATE_KEYS = new Set(["max-limit", "burst-limit", "burst-threshold", "limit-at"])
const UNITS: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 }

/** `2000000` / `2M` / `2000k` → `2000k` (kbit/s, the desired state's unit); anything else unchanged. */
const rateKbps = (part: string): string => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKMG]?)\s*$/.exec(part)
  if (!m) return part
  const bits = Math.round(Number(m[1]) * UNITS[m[2]!]!)
  return bits % 1000 === 0 ? `${bits / 1000}k` : part
}

/** `16`, `16s`, `00:00:16` → `16s`; anything else unchanged. */
const seconds = (part: string): string => {
  const t = part.trim()
  if (/^\d+$/.test(t)) return `${t}s`
  const clock = /^(\d+):(\d{2}):(\d{2})$/.exec(t)
  if (clock) return `${Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3])}s`
  const units = [...t.matchAll(/(\d+)(h|m|s)/g)]
  if (units.length > 0 && units.map((u) => u[0]).join("") === t) {
    return `${units.reduce((sum, u) => sum + Number(u[1]) * (u[2] === "h" ? 3600 : u[2] === "m" ? 60 : 1), 0)}s`
  }
  return part
}

const pair = (value: string, f: (part: string) => string) => value.split("/").map(f).join("/")

const stripPrefix = (value: string | undefined, prefix: string) =>
  value !== undefined && prefix !== "" && value.startsWith(prefix) ? value.slice(prefix.length) : value

/**
 * One router's state in canonical spelling.
 *
 * @since 0.1.0
 */
export const canonicalState = (state: RouterServiceState, options: CanonicalOptions = {}): RouterServiceState => {
  const commentPrefix = options.commentPrefix ?? "isp:"
  const queuePrefix = options.queuePrefix ?? "svc-"
  const row = (r: Record<string, string>, queue: boolean): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(r)) {
      if (k === "comment") out[k] = stripPrefix(v, commentPrefix)!
      else if (queue && k === "name") out[k] = stripPrefix(v, queuePrefix)!
      else if (queue && RATE_KEYS.has(k)) out[k] = pair(v, rateKbps)
      else if (queue && k === "burst-time") out[k] = pair(v, seconds)
      else out[k] = v
    }
    return out
  }
  return {
    pppSecrets: state.pppSecrets.map((r) => row(r, false)),
    dhcpLeases: state.dhcpLeases.map((r) => row(r, false)),
    queues: state.queues.map((r) => row(r, true)),
    addressListEntries: state.addressListEntries.map((r) => row(r, false))
  }
}

/**
 * A provisioner whose `inspectService` answers in canonical spelling; writes pass through.
 *
 * @since 0.1.0
 */
export const wrap = (provisioner: RouterProvisioner, options: CanonicalOptions = {}): RouterProvisioner =>
  RouterProvisioner.of({
    ensureService: provisioner.ensureService,
    removeService: provisioner.removeService,
    inspectService: (routerId, serviceId) =>
      Effect.map(provisioner.inspectService(routerId, serviceId), (state) => canonicalState(state, options))
  })

/**
 * Wraps the `RouterProvisioner` a layer provides.
 *
 * @since 0.1.0
 */
export const layer = <E, R>(
  inner: Layer.Layer<RouterProvisioner, E, R>,
  options: CanonicalOptions = {}
): Layer.Layer<RouterProvisioner, E, R> =>
  Layer.effect(RouterProvisioner, Effect.map(RouterProvisioner, (p) => wrap(p, options))).pipe(Layer.provide(inner))
