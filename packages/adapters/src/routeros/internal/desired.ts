/**
 * The objects a router should hold for a service (pure), and how RouterOS values compare: the router
 * prints values in its own canonical form (`10k/20M` comes back as `10000/20000000`, `yes` as `true`,
 * MACs upper case), so "is it already right?" compares meanings, not strings.
 *
 * @internal
 */
import type { RouterServiceSpec } from "@isp-framework/core"

export const PATHS = {
  pppSecret: "/ppp/secret",
  dhcpLease: "/ip/dhcp-server/lease",
  queue: "/queue/simple",
  addressList: "/ip/firewall/address-list",
  addressList6: "/ipv6/firewall/address-list"
} as const

export type ManagedPath = typeof PATHS[keyof typeof PATHS]

export interface DesiredObject {
  readonly path: ManagedPath
  /** Natural key: finds an untagged object (made by hand before we managed it) to adopt instead of duplicating. */
  readonly adoptBy: Readonly<Record<string, string>>
  /** The properties we own (the identity comment is added by the caller). */
  readonly fields: Readonly<Record<string, string>>
}

export interface DesiredState {
  readonly objects: ReadonlyArray<DesiredObject>
  /** Paths whose tagged objects must not exist. */
  readonly absent: ReadonlyArray<ManagedPath>
}

export interface DesiredOptions {
  readonly suspendedList: string
}

const isV6 = (address: string) => address.includes(":")
const hostAddress = (address: string) => address.split("/")[0]!

/** Builds the desired objects; a string is the reason the spec cannot be expressed. */
export const desiredState = (spec: RouterServiceSpec, options: DesiredOptions): DesiredState | string => {
  const objects: Array<DesiredObject> = []
  const address = spec.address === null ? null : hostAddress(spec.address)

  if (spec.connectionType === "PPPOE") {
    if (!spec.pppoeUsername || spec.pppoePassword === null) return "a PPPoE service needs a user name and a password"
    objects.push({
      path: PATHS.pppSecret,
      adoptBy: { name: spec.pppoeUsername },
      fields: {
        name: spec.pppoeUsername,
        password: spec.pppoePassword,
        service: "pppoe",
        profile: spec.profile ?? "default",
        ...(address !== null && !isV6(address) ? { "remote-address": address } : {}),
        disabled: "no"
      }
    })
  }
  if (spec.connectionType === "DHCP") {
    if (!spec.macAddress || address === null) return "a DHCP service needs a MAC address and an address"
    if (isV6(address)) return "a DHCP static lease needs an IPv4 address"
    objects.push({
      path: PATHS.dhcpLease,
      adoptBy: { "mac-address": spec.macAddress.toUpperCase() },
      fields: { "mac-address": spec.macAddress.toUpperCase(), address, disabled: "no" }
    })
  }
  if (address !== null) {
    const { rate } = spec
    const name = `svc-${spec.serviceNumber}`
    // RouterOS orders every pair upload/download (from the target's point of view).
    objects.push({
      path: PATHS.queue,
      adoptBy: { name },
      fields: {
        name,
        target: `${address}/${isV6(address) ? 128 : 32}`,
        "max-limit": `${rate.uploadKbps}k/${rate.downloadKbps}k`,
        "burst-limit": rate.burst ? `${rate.burst.uploadKbps}k/${rate.burst.downloadKbps}k` : "0/0",
        "burst-threshold": rate.burst
          ? `${rate.burst.thresholdUploadKbps}k/${rate.burst.thresholdDownloadKbps}k`
          : "0/0",
        "burst-time": rate.burst ? `${rate.burst.timeSeconds}s/${rate.burst.timeSeconds}s` : "0s/0s",
        disabled: "no"
      }
    })
    if (spec.suspended === "FULL") {
      const path = isV6(address) ? PATHS.addressList6 : PATHS.addressList
      objects.push({
        path,
        adoptBy: { list: options.suspendedList, address },
        fields: { list: options.suspendedList, address, disabled: "no" }
      })
    }
  }
  const present = new Set(objects.map((o) => o.path))
  const absent: Array<ManagedPath> = [PATHS.pppSecret, PATHS.dhcpLease, PATHS.queue, PATHS.addressList].filter((p) => !present.has(p))
  // The IPv6 list is only touched when the service is IPv6: a router without IPv6 has no such menu.
  if (address !== null && isV6(address) && !present.has(PATHS.addressList6)) absent.push(PATHS.addressList6)
  return { objects, absent }
}

// -- value comparison ---------------------------------------------------------------------------

const RATE_KEYS = new Set(["max-limit", "burst-limit", "burst-threshold", "limit-at"])
const UNITS: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 }

const parseRate = (part: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKMG]?)\s*$/.exec(part)
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : undefined
}

/** Seconds of a RouterOS time: `8`, `8s`, `1m30s`, `2h`, `00:01:30`. */
const parseTime = (part: string): number | undefined => {
  const t = part.trim()
  if (/^\d+$/.test(t)) return Number(t)
  const clock = /^(\d+):(\d{2}):(\d{2})$/.exec(t)
  if (clock) return Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3])
  const units = [...t.matchAll(/(\d+)(w|d|h|ms|m|s)/g)]
  if (units.length === 0 || units.map((u) => u[0]).join("") !== t) return undefined
  const factor: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 }
  return units.reduce((sum, u) => sum + Number(u[1]) * factor[u[2]!]!, 0)
}

const pairEqual = (have: string, want: string, parse: (s: string) => number | undefined) => {
  const a = have.split("/"), b = want.split("/")
  return a.length === b.length && a.every((x, i) => {
    const pa = parse(x), pb = parse(b[i]!)
    return pa !== undefined && pa === pb
  })
}

const BOOL: Record<string, boolean> = { yes: true, true: true, no: false, false: false }

const withPrefix = (address: string) => (address.includes("/") ? address : `${address}/${address.includes(":") ? 128 : 32}`)

/** Whether the router's printed value means the same as the value we would set. */
export const sameValue = (key: string, have: string | undefined, want: string): boolean => {
  if (have === undefined) return want === ""
  if (have === want) return true
  if (RATE_KEYS.has(key)) return pairEqual(have, want, parseRate)
  if (key === "burst-time") return pairEqual(have, want, parseTime)
  if (key === "disabled") return BOOL[have] !== undefined && BOOL[have] === BOOL[want]
  if (key === "mac-address") return have.toUpperCase() === want.toUpperCase()
  if (key === "address" || key === "target") {
    const norm = (v: string) => v.split(",").map((s) => withPrefix(s.trim())).sort().join(",")
    return norm(have) === norm(want)
  }
  return false
}

/** The fields whose router value differs from the desired one. */
export const differences = (row: Readonly<Record<string, string>>, fields: Readonly<Record<string, string>>) =>
  Object.entries(fields).filter(([k, v]) => !sameValue(k, row[k], v))
