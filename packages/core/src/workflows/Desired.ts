/**
 * Desired network state, computed purely from what the database says: the service (status, speeds,
 * credentials), its template (burst, router profile) and its IP assignment. Workflow steps push this
 * state through the idempotent ports; the reconciler compares it with what RADIUS and the router hold.
 *
 * The canonical RADIUS rows ({@link radiusRows}) and router objects ({@link routerObjects}) live here so
 * that every adapter writes, and the reconciler expects, exactly the same thing.
 *
 * @since 0.1.0
 */
import { Redacted } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import { holdsResources } from "../lifecycle/Lifecycle.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import type { RadiusUserSpec, RadiusUserState, RateLimit, RouterServiceSpec, RouterServiceState } from "../ports/Network.js"

/** The RADIUS group of FULL-suspended users (its `radgroupreply` holds the walled-garden profile). */
export const SUSPENDED_GROUP = "suspended"
/** The router firewall address list a walled garden redirects. */
export const SUSPENDED_ADDRESS_LIST = "suspended"
/** Used when a service names no router. */
export const DEFAULT_ROUTER_ID = "default"

/** The addresses a service holds (from its IP assignments). */
export interface ServiceAddresses {
  readonly ipv4: string | null
  readonly ipv6Prefix: string | null
  readonly delegatedIpv6Prefix: string | null
}
export const noAddresses: ServiceAddresses = { ipv4: null, ipv6Prefix: null, delegatedIpv6Prefix: null }

/** The RADIUS user name of a service: the PPPoE user name, else the MAC (IPoE), else the service number. */
export const radiusUsername = (service: CustomerService): string =>
  service.pppoeUsername ?? service.macAddress ?? service.serviceNumber

export const routerIdOf = (service: CustomerService): string => service.routerId ?? DEFAULT_ROUTER_ID

/** Statuses whose network objects must exist (RADIUS user, router objects, IP). */
export const isProvisioned = (service: CustomerService): boolean =>
  service.status === "ACTIVE" || service.status === "SUSPENDED"

/** The service's current rate; the template's burst applies only while it runs at the plan's speed. */
export const rateOf = (service: CustomerService, template: ServiceTemplate | null): RateLimit => {
  const spec = template?.internet ?? null
  const down = service.downloadSpeedKbps ?? spec?.downloadSpeedKbps ?? 0
  const up = service.uploadSpeedKbps ?? spec?.uploadSpeedKbps ?? 0
  const atPlan = spec !== null && down === spec.downloadSpeedKbps && up === spec.uploadSpeedKbps
  const burst = atPlan && spec.burst !== null && service.suspensionType === null ? spec.burst : undefined
  return burst === undefined
    ? { downloadKbps: down, uploadKbps: up }
    : {
      downloadKbps: down,
      uploadKbps: up,
      burst: {
        downloadKbps: burst.downloadKbps,
        uploadKbps: burst.uploadKbps,
        thresholdDownloadKbps: burst.thresholdDownloadKbps,
        thresholdUploadKbps: burst.thresholdUploadKbps,
        timeSeconds: burst.timeSeconds
      }
    }
}

/**
 * `Mikrotik-Rate-Limit` / queue `max-limit` text. MikroTik reads it from the router's side:
 * rx (the subscriber's upload) first, then tx (download); burst rate, threshold and time follow.
 */
export const rateLimitText = (rate: RateLimit): string => {
  const base = `${rate.uploadKbps}k/${rate.downloadKbps}k`
  const b = rate.burst
  return b === undefined
    ? base
    : `${base} ${b.uploadKbps}k/${b.downloadKbps}k ${b.thresholdUploadKbps}k/${b.thresholdDownloadKbps}k ${b.timeSeconds}/${b.timeSeconds}`
}

const suspensionOf = (service: CustomerService): RadiusUserSpec["suspended"] =>
  service.status === "SUSPENDED" ? service.suspensionType ?? "FULL" : "NONE"

/** What RADIUS should answer for the service. */
export const radiusSpec = (
  service: CustomerService,
  template: ServiceTemplate | null,
  addresses: ServiceAddresses
): RadiusUserSpec => ({
  serviceId: service.id,
  customerId: service.customerId,
  username: radiusUsername(service),
  password: service.pppoePassword === null ? "" : Redacted.value(service.pppoePassword),
  framedIpAddress: addresses.ipv4,
  framedIpv6Prefix: addresses.ipv6Prefix,
  delegatedIpv6Prefix: addresses.delegatedIpv6Prefix,
  rate: rateOf(service, template),
  suspended: suspensionOf(service),
  // PENDING too: the user may authenticate as soon as activation has written the rows.
  enabled: holdsResources(service.status)
})

/** What the router should hold for the service. */
export const routerSpec = (
  service: CustomerService,
  template: ServiceTemplate | null,
  addresses: ServiceAddresses
): RouterServiceSpec => ({
  serviceId: service.id,
  serviceNumber: service.serviceNumber,
  connectionType: service.connectionType,
  pppoeUsername: service.pppoeUsername,
  pppoePassword: service.pppoePassword === null ? null : Redacted.value(service.pppoePassword),
  macAddress: service.macAddress,
  address: addresses.ipv4,
  rate: rateOf(service, template),
  profile: template?.internet?.routerProfile ?? null,
  suspended: suspensionOf(service)
})

type Row = { readonly attribute: string; readonly op: string; readonly value: string }

/**
 * The canonical FreeRADIUS rows of a user: `radcheck` (Cleartext-Password; `Auth-Type := Reject` when
 * disabled), `radreply` (Framed-IP-Address, Framed-IPv6-Prefix, Delegated-IPv6-Prefix,
 * Mikrotik-Rate-Limit) and `radusergroup` (the suspended group for FULL suspensions).
 */
export const radiusRows = (spec: RadiusUserSpec): RadiusUserState => {
  const check: Array<Row> = [{ attribute: "Cleartext-Password", op: ":=", value: spec.password }]
  if (!spec.enabled) check.push({ attribute: "Auth-Type", op: ":=", value: "Reject" })
  const reply: Array<Row> = []
  if (spec.framedIpAddress !== null) reply.push({ attribute: "Framed-IP-Address", op: ":=", value: spec.framedIpAddress })
  if (spec.framedIpv6Prefix !== null) reply.push({ attribute: "Framed-IPv6-Prefix", op: ":=", value: spec.framedIpv6Prefix })
  if (spec.delegatedIpv6Prefix !== null) {
    reply.push({ attribute: "Delegated-IPv6-Prefix", op: ":=", value: spec.delegatedIpv6Prefix })
  }
  reply.push({ attribute: "Mikrotik-Rate-Limit", op: ":=", value: rateLimitText(spec.rate) })
  if (spec.sessionTimeoutSeconds !== undefined) {
    reply.push({ attribute: "Session-Timeout", op: ":=", value: String(spec.sessionTimeoutSeconds) })
  }
  return { username: spec.username, check, reply, groups: spec.suspended === "FULL" ? [SUSPENDED_GROUP] : [] }
}

/**
 * The canonical router objects of a service, each tagged `comment = <service id>` so they can be found
 * again: a PPP secret (PPPoE) or a DHCP static lease (IPoE), one simple queue, and an address-list entry
 * on the suspended list while FULL-suspended.
 */
export const routerObjects = (spec: RouterServiceSpec): RouterServiceState => {
  const tag = spec.serviceId
  const pppSecrets = spec.connectionType === "PPPOE" && spec.pppoeUsername !== null
    ? [{
      name: spec.pppoeUsername,
      password: spec.pppoePassword ?? "",
      service: "pppoe",
      ...(spec.address !== null ? { "remote-address": spec.address } : {}),
      ...(spec.profile !== null ? { profile: spec.profile } : {}),
      comment: tag
    }]
    : []
  const dhcpLeases = spec.connectionType === "DHCP" && spec.macAddress !== null && spec.address !== null
    ? [{ "mac-address": spec.macAddress.toUpperCase(), address: spec.address, comment: tag }]
    : []
  const queues = [{
    name: spec.serviceNumber,
    ...(spec.address !== null ? { target: `${spec.address}/32` } : {}),
    "max-limit": `${spec.rate.uploadKbps}k/${spec.rate.downloadKbps}k`,
    ...(spec.rate.burst !== undefined
      ? {
        "burst-limit": `${spec.rate.burst.uploadKbps}k/${spec.rate.burst.downloadKbps}k`,
        "burst-threshold": `${spec.rate.burst.thresholdUploadKbps}k/${spec.rate.burst.thresholdDownloadKbps}k`,
        "burst-time": `${spec.rate.burst.timeSeconds}s/${spec.rate.burst.timeSeconds}s`
      }
      : {}),
    comment: tag
  }]
  const addressListEntries = spec.suspended === "FULL" && spec.address !== null
    ? [{ list: SUSPENDED_ADDRESS_LIST, address: spec.address, comment: tag }]
    : []
  return { pppSecrets, dhcpLeases, queues, addressListEntries }
}

/** An empty router state (what a service that holds nothing should show). */
export const emptyRouterState: RouterServiceState = { pppSecrets: [], dhcpLeases: [], queues: [], addressListEntries: [] }
