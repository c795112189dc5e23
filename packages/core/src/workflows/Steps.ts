/**
 * The step functions: what each named step of a {@link Definitions.definitions} entry does. Each one
 * reads the service as stored *now* and pushes the desired state through idempotent ports, so it may
 * run any number of times. The reconciler repairs drift through the same `syncRadius` / `syncRouter` /
 * `syncIp` functions.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, Schema } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import type { ServiceId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import type { ProvisioningWorkflow } from "../domain/Workflow.js"
import { holdsResources } from "../lifecycle/Lifecycle.js"
import {
  BillingHooks,
  NasSessionControl,
  RadiusProvisioner,
  RouterProvisioner,
  type SessionControlResult,
  type SessionTarget
} from "../ports/Network.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"
import { ServiceLifecycle } from "../services/ServiceLifecycle.js"
import { Actor } from "../domain/StatusChange.js"
import { actorOfInput, type StepDefinition, type StepName } from "./Definitions.js"
import {
  isProvisioned,
  radiusSpec,
  radiusUsername,
  routerIdOf,
  routerSpec,
  SUSPENDED_ADDRESS_LIST,
  type ServiceAddresses
} from "./Desired.js"
import { IpAccess } from "./internal/ip.js"

/**
 * A step attempt failed. `retryable: false` (a configuration problem, a missing service) gives up at
 * once instead of burning the remaining attempts.
 */
export class StepFailed extends Schema.TaggedError<StepFailed>()("StepFailed", {
  step: Schema.String,
  reason: Schema.String,
  retryable: Schema.Boolean
}) {
  override get message() {
    return `Step ${this.step} failed: ${this.reason}`
  }
}

/** Maps any port error into a retryable `StepFailed`. */
const failWith = (step: string) => (e: { readonly message: string; readonly retryable?: boolean }) =>
  new StepFailed({ step, reason: e.message, retryable: e.retryable ?? true })

/** The service and its template as stored now. */
export const loadService = (serviceId: ServiceId, step: string) =>
  Effect.gen(function*() {
    const services = yield* ServiceRepository
    const templates = yield* TemplateRepository
    const found = yield* services.findById(serviceId)
    if (Option.isNone(found)) {
      return yield* new StepFailed({ step, reason: `service ${serviceId} not found`, retryable: false })
    }
    const template = yield* templates.findById(found.value.templateId)
    return { service: found.value, template: Option.getOrNull(template) }
  })

/** RADIUS holds the user as the service's status says (upsert while it holds resources, remove after). */
export const syncRadius = (service: CustomerService, template: ServiceTemplate | null, addresses: ServiceAddresses) =>
  Effect.flatMap(RadiusProvisioner, (radius) =>
    holdsResources(service.status)
      ? radius.upsertUser(radiusSpec(service, template, addresses))
      : radius.removeUser(radiusUsername(service)))

/** The router holds the service's objects as its status says (ensure while it holds resources, remove after). */
export const syncRouter = (service: CustomerService, template: ServiceTemplate | null, addresses: ServiceAddresses) =>
  Effect.flatMap(RouterProvisioner, (router) =>
    holdsResources(service.status)
      ? router.ensureService(routerIdOf(service), routerSpec(service, template, addresses))
      : router.removeService(routerIdOf(service), service.id))

/** The IP assignment exists while the service holds resources and is released (into quarantine) after. */
export const syncIp = (service: CustomerService, template: ServiceTemplate | null) =>
  Effect.flatMap(IpAccess, (ip) =>
    holdsResources(service.status) ? ip.ensure(service, template) : Effect.as(ip.release(service.id), null))

export const sessionTarget = (service: CustomerService, addresses: ServiceAddresses): SessionTarget => ({
  nasId: routerIdOf(service),
  username: radiusUsername(service),
  framedIpAddress: addresses.ipv4
})

/** Settings the step functions read. */
export interface StepSettings {
  /** How long to wait for a CoA / Disconnect answer before treating it as no answer. */
  readonly nasTimeout: Duration.DurationInput
}

const resultTag = (r: SessionControlResult) =>
  r._tag === "Nak" ? { result: "Nak", errorCause: r.errorCause, errorCauseName: r.errorCauseName } : { result: r._tag }

const withNasTimeout = (settings: StepSettings) => (eff: Effect.Effect<SessionControlResult>) =>
  Effect.timeoutTo(eff, {
    duration: settings.nasTimeout,
    onTimeout: (): SessionControlResult => ({ _tag: "NoResponse", attempts: 1 }),
    onSuccess: (r) => r
  })

/**
 * Updates the live session: a CoA-Request with the current rate (and the suspended address list for a
 * FULL suspension); if the NAS NAKs or does not answer, a Disconnect-Request forces the subscriber to
 * re-authenticate, which picks up the new RADIUS profile.
 */
export const updateLiveSession = (service: CustomerService, template: ServiceTemplate | null, addresses: ServiceAddresses, settings: StepSettings) =>
  Effect.gen(function*() {
    const nas = yield* NasSessionControl
    const target = sessionTarget(service, addresses)
    const spec = radiusSpec(service, template, addresses)
    const coa = yield* withNasTimeout(settings)(
      nas.changeRate(target, spec.rate, { addressList: spec.suspended === "FULL" ? SUSPENDED_ADDRESS_LIST : null })
    )
    if (coa._tag === "Ack") return { coa: resultTag(coa), disconnect: null }
    const dm = yield* withNasTimeout(settings)(nas.disconnect(target))
    return { coa: resultTag(coa), disconnect: resultTag(dm) }
  })

/** What a step run returns: its output, or a request to skip the rest (the service moved on). */
export type StepOutcome =
  | { readonly _tag: "Done"; readonly output: unknown }
  | { readonly _tag: "Superseded"; readonly reason: string }

const done = (output: unknown): StepOutcome => ({ _tag: "Done", output })

/**
 * What the steps of one claimed run share, so a run reads the service once instead of once per step:
 * the service and its template as read when the run started, and its addresses once known.
 *
 * Reading once is safe because a claimed workflow is the oldest unfinished one of its service: any
 * request that changes the service meanwhile queues a newer workflow that runs after this one and
 * pushes the newer state (every step is desired-state shaped). The one decision that must see the
 * current status — the activation's status transition — reads it fresh (`ServiceLifecycle.apply`).
 */
export interface RunContext {
  readonly service: CustomerService
  readonly template: ServiceTemplate | null
  readonly addresses: ServiceAddresses | null
}

/** The run context of `workflow`'s service as stored now. */
export const loadContext = (workflow: ProvisioningWorkflow, step: string) =>
  Effect.map(loadService(workflow.serviceId, step), ({ service, template }): RunContext => ({ service, template, addresses: null }))

/**
 * Runs step `name` of `workflow` once against a run context; returns the outcome and the context the
 * next step of the same run may use.
 */
export const runStepWith = (name: StepName, workflow: ProvisioningWorkflow, settings: StepSettings, context: RunContext) =>
  Effect.gen(function*() {
    const { service, template } = context
    let ctx = context
    const result = (outcome: StepOutcome) => ({ outcome, context: ctx })
    // An activation overtaken by a termination (or any other status) must not resurrect the service;
    // the newer workflow cleans up.
    if (workflow.kind === "ACTIVATE" && service.status !== "PENDING" && service.status !== "ACTIVE") {
      return result({ _tag: "Superseded", reason: `service is ${service.status}` })
    }
    const ip = yield* IpAccess
    const addressesOf = Effect.gen(function*() {
      if (ctx.addresses !== null) return ctx.addresses
      const addresses = yield* ip.addressesOf(service)
      ctx = { ...ctx, addresses }
      return addresses
    })
    switch (name) {
      case "allocate_ip": {
        const addresses = yield* ip.ensure(service, template).pipe(Effect.mapError(failWith(name)))
        ctx = { ...ctx, addresses }
        return result(done(addresses))
      }
      case "radius_user":
      case "radius_profile":
      case "radius_disable": {
        const addresses = yield* addressesOf
        yield* syncRadius(service, template, addresses).pipe(Effect.mapError(failWith(name)))
        return result(done({ username: radiusUsername(service), present: holdsResources(service.status) }))
      }
      case "router_config":
      case "router_remove": {
        const addresses = yield* addressesOf
        yield* syncRouter(service, template, addresses).pipe(Effect.mapError(failWith(name)))
        return result(done({ routerId: routerIdOf(service), present: holdsResources(service.status) }))
      }
      case "activate": {
        if (service.status === "ACTIVE") return result(done({ status: "ACTIVE", alreadyActive: true }))
        const lifecycle = yield* ServiceLifecycle
        const a = actorOfInput(workflow.input)
        // `apply` reads the current status itself: the transition never acts on the run's snapshot.
        const t = yield* lifecycle.apply(service.id, { _tag: "ProvisioningSucceeded" }, new Actor(a)).pipe(Effect.either)
        if (t._tag === "Right") {
          ctx = { ...ctx, service: t.right.next }
          return result(done({ status: t.right.next.status }))
        }
        const e = t.left
        if (e._tag === "InvalidTransition") {
          if (e.status === "ACTIVE") {
            // Activated by an earlier attempt whose save was lost: carry on with the stored service.
            ctx = { ...ctx, service: (yield* loadService(workflow.serviceId, name)).service }
            return result(done({ status: "ACTIVE", alreadyActive: true }))
          }
          if (e.status !== "PENDING") return result({ _tag: "Superseded", reason: `service is ${e.status}` })
        }
        return yield* new StepFailed({ step: name, reason: e.message, retryable: e._tag === "ConcurrentModification" })
      }
      case "billing": {
        const billing = yield* BillingHooks
        switch (workflow.kind) {
          case "ACTIVATE":
            yield* billing.onActivated(service)
            break
          case "SUSPEND":
            yield* billing.onSuspended(service)
            break
          case "RESUME":
            yield* billing.onResumed(service)
            break
          case "TERMINATE":
            yield* billing.onTerminated(service)
            break
          default:
            break
        }
        return result(done({ notified: workflow.kind }))
      }
      case "live_session": {
        if (!isProvisioned(service)) return result(done({ skipped: `service is ${service.status}` }))
        const addresses = yield* addressesOf
        return result(done(yield* updateLiveSession(service, template, addresses, settings)))
      }
      case "disconnect": {
        const nas = yield* NasSessionControl
        const addresses = yield* addressesOf
        const r = yield* withNasTimeout(settings)(nas.disconnect(sessionTarget(service, addresses)))
        // A NAK (no such session) or silence is fine: the RADIUS user is gone, so no re-authentication succeeds.
        return result(done({ disconnect: resultTag(r) }))
      }
      case "release_ip": {
        if (holdsResources(service.status)) return result(done({ skipped: `service is ${service.status}` }))
        yield* ip.release(service.id).pipe(Effect.mapError(failWith(name)))
        ctx = { ...ctx, addresses: null }
        return result(done({ released: true }))
      }
    }
  })

/**
 * Runs step `name` of `workflow` once, reading the service as stored now.
 */
export const runStep = (name: StepName, workflow: ProvisioningWorkflow, settings: StepSettings) =>
  Effect.flatMap(loadContext(workflow, name), (context) => runStepWith(name, workflow, settings, context)).pipe(
    Effect.map((r) => r.outcome)
  )

/** Runs the compensation `kind` for `workflow`'s service (used when an activation gives up). */
export const runCompensation = (compensation: NonNullable<StepDefinition["compensation"]>, workflow: ProvisioningWorkflow) =>
  Effect.gen(function*() {
    const { service } = yield* loadService(workflow.serviceId, compensation)
    switch (compensation) {
      case "release_ip": {
        const ip = yield* IpAccess
        return yield* ip.release(service.id).pipe(Effect.mapError(failWith(compensation)))
      }
      case "remove_radius_user": {
        const radius = yield* RadiusProvisioner
        return yield* radius.removeUser(radiusUsername(service)).pipe(Effect.mapError(failWith(compensation)))
      }
      case "remove_router_config": {
        const router = yield* RouterProvisioner
        return yield* router.removeService(routerIdOf(service), service.id).pipe(Effect.mapError(failWith(compensation)))
      }
    }
  })
