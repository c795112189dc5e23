/**
 * ServiceLifecycle — creates PENDING services from templates and moves them through the status
 * machine. Every change goes through `lifecycle/` and is written together with its history row,
 * compare-and-set on `version`, so concurrent requests can never both succeed (no double
 * activation, no suspend racing a terminate).
 *
 * It changes *status* only; the network side (RADIUS, router, IP) follows in a provisioning
 * workflow that carries out the returned `effects`.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Either, Option, Redacted, Schedule } from "effect"
import { CustomerService, type CreateService } from "../domain/CustomerService.js"
import type { SuspensionReason, SuspensionType } from "../domain/Enums.js"
import { ConcurrentModification, ServiceNotFound, ValidationError } from "../domain/Errors.js"
import type { ServiceId, StatusChangeId, TemplateId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import { Actor, StatusChange } from "../domain/StatusChange.js"
import { type LifecycleEvent, transition, type Transition } from "../lifecycle/Lifecycle.js"
import { newId } from "../internal/uuid.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { ServiceCatalog } from "./ServiceCatalog.js"

/** Options for `suspend`. */
export interface SuspendOptions {
  readonly reason: SuspensionReason
  readonly suspensionType: SuspensionType
  readonly note?: string | undefined
}

const checkConnection = (input: CreateService, template: ServiceTemplate) =>
  Effect.gen(function*() {
    if (template.serviceType !== "INTERNET") return
    switch (input.connectionType) {
      case "PPPOE":
        if (input.pppoeUsername === undefined) {
          return yield* new ValidationError({ field: "pppoeUsername", reason: "required for PPPOE services" })
        }
        if (input.pppoePassword === undefined) {
          return yield* new ValidationError({ field: "pppoePassword", reason: "required for PPPOE services" })
        }
        return
      case "DHCP":
        if (input.macAddress === undefined && input.circuitId === undefined) {
          return yield* new ValidationError({ field: "macAddress", reason: "DHCP services need a MAC address or circuit id" })
        }
        return
      case "STATIC":
        if (input.requestedIp === undefined) {
          return yield* new ValidationError({ field: "requestedIp", reason: "required for STATIC services" })
        }
        return
    }
  })

export class ServiceLifecycle extends Effect.Service<ServiceLifecycle>()("@isp-framework/core/ServiceLifecycle", {
  effect: Effect.gen(function*() {
    const repo = yield* ServiceRepository
    const catalog = yield* ServiceCatalog

    const historyRow = (t: { previous: CustomerService | null; next: CustomerService }, event: string, actor: Actor, note: string | null) =>
      Effect.map(newId<StatusChangeId>(), (id) =>
        new StatusChange({
          id,
          serviceId: t.next.id,
          customerId: t.next.customerId,
          previousStatus: t.previous?.status ?? null,
          nextStatus: t.next.status,
          event,
          reason: t.next.status === "SUSPENDED" ? t.next.suspensionReason : null,
          note,
          changedBy: actor.changedBy,
          changeMethod: actor.changeMethod,
          at: t.next.updatedAt
        }))

    const get = Effect.fn("ServiceLifecycle.get")(function*(id: ServiceId) {
      const found = yield* repo.findById(id)
      if (Option.isNone(found)) return yield* new ServiceNotFound({ serviceId: id })
      return found.value
    })

    /**
     * Creates a PENDING service from an available template, with the template's tariff unless one is
     * given, and its creation history row.
     */
    const create = Effect.fn("ServiceLifecycle.create")(function*(input: CreateService, actor: Actor = Actor.system) {
      const template = yield* catalog.requireAvailable(input.templateId, input.location ?? null)
      yield* checkConnection(input, template)
      const now = yield* DateTime.now
      const service = new CustomerService({
        id: yield* newId<ServiceId>(),
        serviceNumber: yield* repo.nextServiceNumber,
        customerId: input.customerId,
        templateId: template.id,
        tariffId: input.tariffId ?? template.tariffId,
        serviceType: template.serviceType,
        status: "PENDING",
        suspensionReason: null,
        suspensionType: null,
        connectionType: input.connectionType,
        pppoeUsername: input.pppoeUsername ?? null,
        pppoePassword: input.pppoePassword ?? null,
        macAddress: input.macAddress ?? null,
        circuitId: input.circuitId ?? null,
        routerId: input.routerId ?? null,
        location: input.location ?? null,
        billingModel: template.billingModel,
        downloadSpeedKbps: template.internet?.downloadSpeedKbps ?? null,
        uploadSpeedKbps: template.internet?.uploadSpeedKbps ?? null,
        requestedIp: input.requestedIp ?? null,
        activatedAt: null,
        suspendedAt: null,
        terminatedAt: null,
        contractStart: input.contractStart ?? null,
        contractEnd: input.contractEnd ?? null,
        createdAt: now,
        updatedAt: now,
        version: 1
      })
      yield* repo.insert(service, yield* historyRow({ previous: null, next: service }, "Create", actor, null))
      return service
    })

    /**
     * Applies a lifecycle event: read, decide (pure), write compare-and-set with the history row.
     * A lost race re-reads and decides again, so the loser sees the winner's status — e.g. a second
     * concurrent activation gets `InvalidTransition`, never a second ACTIVE.
     */
    const apply = Effect.fn("ServiceLifecycle.apply")(function*(
      id: ServiceId,
      event: LifecycleEvent,
      actor: Actor = Actor.system,
      note: string | null = null
    ) {
      const attempt = Effect.gen(function*() {
        const current = yield* get(id)
        const decided = transition(current, event, yield* DateTime.now)
        if (Either.isLeft(decided)) return yield* decided.left
        const t: Transition = decided.right
        yield* repo.update(t.next, yield* historyRow(t, event._tag, actor, note))
        return t
      })
      return yield* attempt.pipe(
        Effect.retry({
          while: (e) => e instanceof ConcurrentModification,
          schedule: Schedule.recurs(20).pipe(Schedule.intersect(Schedule.jittered(Schedule.exponential("2 millis"))))
        })
      )
    })

    /** Speeds of the service's current plan, for resume and plan changes. */
    const planSpeeds = (templateId: TemplateId) =>
      Effect.map(catalog.get(templateId), (t) => ({
        downloadKbps: t.internet?.downloadSpeedKbps ?? null,
        uploadKbps: t.internet?.uploadSpeedKbps ?? null,
        suspendedKbps: t.internet?.suspendedSpeedKbps ?? 256,
        tariffId: t.tariffId
      }))

    const suspend = Effect.fn("ServiceLifecycle.suspend")(function*(
      id: ServiceId,
      options: SuspendOptions,
      actor: Actor = Actor.system
    ) {
      const service = yield* get(id)
      const plan = yield* Effect.orDie(planSpeeds(service.templateId))
      return yield* apply(
        id,
        { _tag: "Suspend", reason: options.reason, suspensionType: options.suspensionType, shapedKbps: plan.suspendedKbps },
        actor,
        options.note ?? null
      )
    })

    const resume = Effect.fn("ServiceLifecycle.resume")(function*(id: ServiceId, actor: Actor = Actor.system, note: string | null = null) {
      const service = yield* get(id)
      const plan = yield* Effect.orDie(planSpeeds(service.templateId))
      return yield* apply(id, { _tag: "Resume", downloadKbps: plan.downloadKbps, uploadKbps: plan.uploadKbps }, actor, note)
    })

    const terminate = Effect.fn("ServiceLifecycle.terminate")(function*(id: ServiceId, actor: Actor = Actor.system, note: string | null = null) {
      return yield* apply(id, { _tag: "Terminate" }, actor, note)
    })

    /** Moves the service to another template of the same type (its tariff comes along). */
    const changePlan = Effect.fn("ServiceLifecycle.changePlan")(function*(
      id: ServiceId,
      templateId: TemplateId,
      actor: Actor = Actor.system
    ) {
      const service = yield* get(id)
      const template = yield* catalog.requireAvailable(templateId, service.location)
      if (template.serviceType !== service.serviceType) {
        return yield* new ValidationError({
          field: "templateId",
          reason: `a ${service.serviceType} service cannot move to a ${template.serviceType} template`
        })
      }
      return yield* apply(id, {
        _tag: "ChangePlan",
        templateId: template.id,
        tariffId: template.tariffId,
        downloadKbps: template.internet?.downloadSpeedKbps ?? null,
        uploadKbps: template.internet?.uploadSpeedKbps ?? null
      }, actor)
    })

    /** Every status change of the service, oldest first. */
    const history = Effect.fn("ServiceLifecycle.history")(function*(id: ServiceId) {
      yield* get(id)
      return yield* repo.history(id)
    })

    return { get, create, apply, suspend, resume, terminate, changePlan, history } as const
  }),
  dependencies: [ServiceCatalog.Default]
}) {}

/** The password as RADIUS needs it (kept redacted everywhere else). */
export const passwordOf = (service: CustomerService): string | null =>
  service.pppoePassword === null ? null : Redacted.value(service.pppoePassword)
