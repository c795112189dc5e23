/**
 * A Promise facade for backends that do not use Effect: the same use-cases as the HTTP API, as
 * async functions over a `ManagedRuntime`. Domain failures reject with typed error classes
 * (`NotFoundError`, `ConflictError`, `InvalidInputError`, …) carrying the domain error's tag and fields.
 *
 * ```ts
 * const isp = createIsp()                 // in memory; pass a layer for PostgreSQL
 * const { service } = await isp.provisionInternet({ customerId: "c1", templateId, pppoeUsername: "u1", pppoePassword: "pw" })
 * try { await isp.getService("…") } catch (e) { if (e instanceof NotFoundError) … }
 * await isp.dispose()
 * ```
 */
import { HttpApiSchema } from "@effect/platform"
import {
  CreateService,
  CreateTemplate,
  type ServiceId,
  type SuspensionReason,
  type SuspensionType,
  type WorkflowId
} from "@isp-framework/core"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Schema } from "effect"
import { type CustomerId, ServiceCatalog, ServiceProvisioning, ServiceQuery, WorkflowEngine } from "@isp-framework/core"
import { MemoryStack } from "./MemoryStack.js"

/** Every rejection of the facade: `tag` is the domain error's `_tag`, `details` its fields. */
export class IspError extends Error {
  constructor(readonly tag: string, message: string, readonly status: number, readonly details: Record<string, unknown>) {
    super(message)
    this.name = new.target.name
  }
}
/** The thing asked for does not exist (or is not visible). */
export class NotFoundError extends IspError {}
/** A state conflict: invalid transition, taken value, concurrent change. */
export class ConflictError extends IspError {}
/** The input is malformed or breaks a domain rule. */
export class InvalidInputError extends IspError {}
/** Anything unexpected (a bug or an infrastructure failure). */
export class InternalError extends IspError {}

const toError = (cause: Cause.Cause<unknown>): IspError => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return new InternalError("Defect", Cause.pretty(cause), 500, {})
  const e = failure.value as { _tag?: string; message?: string; constructor?: unknown }
  const tag = e._tag ?? "Unknown"
  const status = tag === "ParseError" ? 400 : HttpApiSchema.getStatusErrorAST((e.constructor as Schema.Schema.Any | undefined)?.ast ?? Schema.Unknown.ast)
  const details = Object.fromEntries(Object.entries(e).filter(([k]) => k !== "_tag"))
  const message = e.message ?? tag
  const Ctor = status === 404 ? NotFoundError : status === 409 ? ConflictError : status >= 400 && status < 500 ? InvalidInputError : InternalError
  return new Ctor(tag, message, status, details)
}

/** The use-cases the facade needs (memory by default; provide Postgres ports for a database). */
export type IspLayer = Layer.Layer<ServiceQuery | ServiceProvisioning | ServiceCatalog | WorkflowEngine, unknown>

export const createIsp = (layer: IspLayer = MemoryStack) => {
  const runtime = ManagedRuntime.make(layer)
  const run = async <A>(effect: Effect.Effect<A, unknown, ServiceQuery | ServiceProvisioning | ServiceCatalog | WorkflowEngine>): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    throw toError(exit.cause)
  }
  return {
    /** Creates a template; input as in `POST /v1/templates`. */
    createTemplate: (input: unknown) =>
      run(Effect.flatMap(Schema.decodeUnknown(CreateTemplate)(input), (t) => Effect.flatMap(ServiceCatalog, (c) => c.create(t)))),
    listTemplates: (filters: Record<string, unknown> = {}) => run(Effect.flatMap(ServiceCatalog, (c) => c.list(filters))),
    /** Starts provisioning (returns at once); input as in `POST /v1/services/internet`. */
    provisionInternet: (input: unknown, options: { idempotencyKey?: string } = {}) =>
      run(Effect.flatMap(Schema.decodeUnknown(CreateService)(input), (req) =>
        Effect.flatMap(ServiceProvisioning, (p) => p.provisionInternet(req, { idempotencyKey: options.idempotencyKey })))),
    searchServices: (filters: Record<string, unknown> = {}, scope?: { customerId: string }) =>
      run(Effect.flatMap(ServiceQuery, (q) => q.search(filters, scope === undefined ? undefined : { customerId: scope.customerId as CustomerId }))),
    getService: (id: string, include: ReadonlyArray<string> = []) =>
      run(Effect.flatMap(ServiceQuery, (q) => q.get(id as ServiceId, { include }))),
    suspend: (id: string, request: { reason: SuspensionReason; type?: SuspensionType; note?: string }) =>
      run(Effect.flatMap(ServiceProvisioning, (p) =>
        p.suspend(id as ServiceId, { reason: request.reason, suspensionType: request.type ?? "FULL", note: request.note }))),
    resume: (id: string) => run(Effect.flatMap(ServiceProvisioning, (p) => p.resume(id as ServiceId))),
    terminate: (id: string) => run(Effect.flatMap(ServiceProvisioning, (p) => p.terminate(id as ServiceId))),
    workflow: (id: string) => run(Effect.flatMap(ServiceProvisioning, (p) => p.workflow(id as WorkflowId))),
    /** Runs due workflow steps until nothing is due (for scripts; servers run a Worker instead). */
    runWorkflows: () => run(Effect.flatMap(WorkflowEngine, (e) => e.runUntilIdle())),
    dispose: () => runtime.dispose()
  }
}
export type Isp = ReturnType<typeof createIsp>
