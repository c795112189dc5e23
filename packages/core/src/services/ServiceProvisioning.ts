/**
 * ServiceProvisioning — the use-case that starts provisioning workflows. Each request records what is
 * wanted (the PENDING service, or the new status through `ServiceLifecycle`) together with its workflow
 * in one transaction, and returns at once; workers carry the workflow out (see `Worker`).
 *
 * Idempotency: a request with an `idempotencyKey` that was already used returns the same service and
 * workflow (`created: false`) and changes nothing, also under concurrency — the workflow table's unique
 * key is the last line of defence, and a request that loses that race re-reads the winner's rows.
 * Reusing a key for a different request (another kind, service or customer) is a `Conflict`.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Option } from "effect"
import type { CreateService, CustomerService } from "../domain/CustomerService.js"
import type { SuspensionReason, SuspensionType, WorkflowKind } from "../domain/Enums.js"
import { Conflict, ServiceNotFound, ValidationError, WorkflowNotFound } from "../domain/Errors.js"
import type { ServiceId, TemplateId, WorkflowId } from "../domain/Ids.js"
import { Actor } from "../domain/StatusChange.js"
import type { ProvisioningWorkflow } from "../domain/Workflow.js"
import { newId } from "../internal/uuid.js"
import { ServiceRepository } from "../ports/ServiceRepository.js"
import { Transactor } from "../ports/Transactor.js"
import { WorkflowRepository } from "../ports/WorkflowRepository.js"
import type { WorkflowActor } from "../workflows/Definitions.js"
import * as WorkflowState from "../workflows/WorkflowState.js"
import { ServiceCatalog } from "./ServiceCatalog.js"
import { ServiceLifecycle } from "./ServiceLifecycle.js"

/** Options every request accepts. */
export interface RequestOptions {
  /** The same key returns the same service/workflow instead of starting a second one. */
  readonly idempotencyKey?: string | undefined
  /** Who asked (recorded on status-history rows); default `Actor.system`. */
  readonly actor?: Actor | undefined
  /** A note for the status-history row. */
  readonly note?: string | undefined
}

/** What every request returns: the service as it now stands and the workflow carrying it out. */
export interface Started {
  readonly service: CustomerService
  readonly workflow: ProvisioningWorkflow
  /** false when an earlier request with the same idempotency key is returned. */
  readonly created: boolean
}

/** Suspension parameters. */
export interface SuspendRequest {
  readonly reason: SuspensionReason
  readonly suspensionType: SuspensionType
  readonly note?: string | undefined
}

/** A speed change that is not a plan change (Smart FUP tier). */
export interface ChangeSpeedRequest {
  readonly downloadKbps: number
  readonly uploadKbps: number
}

const actorInput = (actor: Actor): WorkflowActor => ({ changedBy: actor.changedBy, changeMethod: actor.changeMethod })

export class ServiceProvisioning extends Effect.Service<ServiceProvisioning>()("@isp-framework/core/ServiceProvisioning", {
  effect: Effect.gen(function*() {
    const lifecycle = yield* ServiceLifecycle
    const catalog = yield* ServiceCatalog
    const services = yield* ServiceRepository
    const workflows = yield* WorkflowRepository
    const transactor = yield* Transactor

    const serviceOf = (id: ServiceId) =>
      Effect.flatMap(services.findById(id), Option.match({
        onNone: () => Effect.fail(new ServiceNotFound({ serviceId: id })),
        onSome: Effect.succeed
      }))

    /** The earlier request with this key, if any, checked to be the same kind of request. */
    const replay = (
      key: string | undefined,
      kind: WorkflowKind,
      matches: (wf: ProvisioningWorkflow) => boolean
    ): Effect.Effect<Option.Option<Started>, Conflict> =>
      key === undefined
        ? Effect.succeedNone
        : Effect.gen(function*() {
          const found = yield* workflows.findByIdempotencyKey(key)
          if (Option.isNone(found)) return Option.none()
          const wf = found.value
          if (wf.kind !== kind || !matches(wf)) return yield* new Conflict({ field: "idempotencyKey", value: key })
          const service = yield* Effect.orDie(serviceOf(wf.serviceId))
          return Option.some({ service, workflow: wf, created: false })
        })

    const newWorkflow = (service: CustomerService, kind: WorkflowKind, input: unknown, key: string | undefined) =>
      Effect.gen(function*() {
        const wf = WorkflowState.make({
          id: yield* newId<WorkflowId>(),
          serviceId: service.id,
          customerId: service.customerId,
          kind,
          input,
          idempotencyKey: key ?? null,
          now: yield* DateTime.now
        })
        yield* workflows.create(wf)
        return wf
      })

    /**
     * The common shape of every request: replay by key; else, in one transaction, re-check the key,
     * record the change and create the workflow; a request that loses a race on the key re-reads.
     */
    const start = <E>(
      kind: WorkflowKind,
      key: string | undefined,
      matches: (wf: ProvisioningWorkflow) => boolean,
      body: Effect.Effect<{ readonly service: CustomerService; readonly workflow: ProvisioningWorkflow }, E>
    ): Effect.Effect<Started, E | Conflict> =>
      Effect.gen(function*() {
        const earlier = yield* replay(key, kind, matches)
        if (Option.isSome(earlier)) return earlier.value
        const fresh = transactor.withTransaction(
          Effect.flatMap(replay(key, kind, matches), Option.match({
            onSome: (s): Effect.Effect<Started, E | Conflict> => Effect.succeed(s),
            onNone: () => Effect.map(body, (r): Started => ({ ...r, created: true }))
          }))
        )
        return yield* Effect.catchAll(fresh, (error) =>
          Effect.flatMap(replay(key, kind, matches), Option.match({
            onSome: (s): Effect.Effect<Started, E | Conflict> => Effect.succeed(s),
            onNone: () => Effect.fail(error)
          })))
      })

    /**
     * Creates the PENDING internet service and its ACTIVATE workflow (atomically) and returns at once.
     */
    const provisionInternet = Effect.fn("ServiceProvisioning.provisionInternet")(function*(
      request: CreateService,
      options: RequestOptions = {}
    ) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "ACTIVATE",
        options.idempotencyKey,
        (wf) => wf.customerId === request.customerId,
        Effect.gen(function*() {
          const template = yield* catalog.get(request.templateId)
          if (template.serviceType !== "INTERNET") {
            return yield* new ValidationError({
              field: "templateId",
              reason: `provisionInternet needs an INTERNET template, got ${template.serviceType}`
            })
          }
          const service = yield* lifecycle.create(request, actor)
          const workflow = yield* newWorkflow(service, "ACTIVATE", { actor: actorInput(actor) }, options.idempotencyKey)
          return { service, workflow }
        })
      )
    })

    /** Moves a FAILED activation back to PENDING and starts a new ACTIVATE workflow. */
    const retryProvisioning = Effect.fn("ServiceProvisioning.retryProvisioning")(function*(
      id: ServiceId,
      options: RequestOptions = {}
    ) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "ACTIVATE",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.apply(id, { _tag: "RetryProvisioning" }, actor, options.note ?? null)
          const workflow = yield* newWorkflow(t.next, "ACTIVATE", { actor: actorInput(actor) }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    /**
     * Suspends the service now (status, reason, shaped speed) and starts the SUSPEND workflow that
     * applies it to RADIUS, the router and the live session.
     */
    const suspend = Effect.fn("ServiceProvisioning.suspend")(function*(
      id: ServiceId,
      request: SuspendRequest,
      options: RequestOptions = {}
    ) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "SUSPEND",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.suspend(id, {
            reason: request.reason,
            suspensionType: request.suspensionType,
            note: request.note ?? options.note
          }, actor)
          const workflow = yield* newWorkflow(t.next, "SUSPEND", {
            actor: actorInput(actor),
            reason: request.reason,
            suspensionType: request.suspensionType,
            note: request.note ?? options.note ?? null
          }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    /** Resumes the service now (plan speeds restored) and starts the RESUME workflow. */
    const resume = Effect.fn("ServiceProvisioning.resume")(function*(id: ServiceId, options: RequestOptions = {}) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "RESUME",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.resume(id, actor, options.note ?? null)
          const workflow = yield* newWorkflow(t.next, "RESUME", { actor: actorInput(actor) }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    /**
     * Terminates the service now and starts the TERMINATE workflow: RADIUS user removed, router objects
     * removed, session disconnected, IP released into quarantine, billing told.
     */
    const terminate = Effect.fn("ServiceProvisioning.terminate")(function*(id: ServiceId, options: RequestOptions = {}) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "TERMINATE",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.terminate(id, actor, options.note ?? null)
          const workflow = yield* newWorkflow(t.next, "TERMINATE", { actor: actorInput(actor) }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    /** Moves the service to another template now and starts the CHANGE_PLAN workflow (rate, queue, CoA). */
    const changePlan = Effect.fn("ServiceProvisioning.changePlan")(function*(
      id: ServiceId,
      templateId: TemplateId,
      options: RequestOptions = {}
    ) {
      const actor = options.actor ?? Actor.system
      return yield* start(
        "CHANGE_PLAN",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.changePlan(id, templateId, actor)
          const workflow = yield* newWorkflow(t.next, "CHANGE_PLAN", { actor: actorInput(actor), templateId }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    /** Changes the current speeds (Smart FUP) now and starts the CHANGE_SPEED workflow (rate, queue, CoA). */
    const changeSpeed = Effect.fn("ServiceProvisioning.changeSpeed")(function*(
      id: ServiceId,
      request: ChangeSpeedRequest,
      options: RequestOptions = {}
    ) {
      const actor = options.actor ?? Actor.system
      if (!Number.isInteger(request.downloadKbps) || request.downloadKbps <= 0) {
        return yield* new ValidationError({ field: "downloadKbps", reason: "must be a positive integer" })
      }
      if (!Number.isInteger(request.uploadKbps) || request.uploadKbps <= 0) {
        return yield* new ValidationError({ field: "uploadKbps", reason: "must be a positive integer" })
      }
      return yield* start(
        "CHANGE_SPEED",
        options.idempotencyKey,
        (wf) => wf.serviceId === id,
        Effect.gen(function*() {
          const t = yield* lifecycle.apply(id, {
            _tag: "ChangeSpeed",
            downloadKbps: request.downloadKbps,
            uploadKbps: request.uploadKbps
          }, actor, options.note ?? null)
          const workflow = yield* newWorkflow(t.next, "CHANGE_SPEED", {
            actor: actorInput(actor),
            downloadKbps: request.downloadKbps,
            uploadKbps: request.uploadKbps
          }, options.idempotencyKey)
          return { service: t.next, workflow }
        })
      )
    })

    const workflow = Effect.fn("ServiceProvisioning.workflow")(function*(id: WorkflowId) {
      const found = yield* workflows.findById(id)
      if (Option.isNone(found)) return yield* new WorkflowNotFound({ workflowId: id })
      return found.value
    })

    /** Every workflow of a service, oldest first. */
    const workflowsFor = Effect.fn("ServiceProvisioning.workflowsFor")(function*(serviceId: ServiceId) {
      yield* serviceOf(serviceId)
      return yield* workflows.listForService(serviceId)
    })

    return {
      provisionInternet,
      retryProvisioning,
      suspend,
      resume,
      terminate,
      changePlan,
      changeSpeed,
      workflow,
      workflowsFor
    } as const
  }),
  dependencies: [ServiceLifecycle.Default, ServiceCatalog.Default]
}) {}
