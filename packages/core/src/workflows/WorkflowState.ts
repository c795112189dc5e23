/**
 * Pure transitions of a {@link ProvisioningWorkflow} record. The engine only ever changes a workflow
 * through these, so what a stored row means is defined in one place:
 *
 * - a step `PENDING` with `attempts > 0` and a `lastError` is waiting for its retry at `nextRunAt`;
 * - a step `RUNNING` was started by a worker that may have died: re-running it is safe (idempotent);
 * - a step `FAILED` gave up for good: the workflow is being finished (compensated or handed to a human);
 * - `SKIPPED` steps follow a step that gave up (or were made moot by a newer status).
 *
 * @since 0.1.0
 */
import { DateTime } from "effect"
import type { WorkflowKind, WorkflowStatus } from "../domain/Enums.js"
import type { CustomerId, ServiceId, WorkflowId } from "../domain/Ids.js"
import { ProvisioningWorkflow, WorkflowStep } from "../domain/Workflow.js"
import { stepsOf } from "./Definitions.js"

/** A new workflow with all steps PENDING, due at `now`. */
export const make = (args: {
  readonly id: WorkflowId
  readonly serviceId: ServiceId
  readonly customerId: CustomerId
  readonly kind: WorkflowKind
  readonly input: unknown
  readonly idempotencyKey: string | null
  readonly now: DateTime.Utc
}): ProvisioningWorkflow =>
  new ProvisioningWorkflow({
    id: args.id,
    serviceId: args.serviceId,
    customerId: args.customerId,
    kind: args.kind,
    status: "PENDING",
    steps: stepsOf(args.kind).map((name) =>
      new WorkflowStep({
        name,
        status: "PENDING",
        attempts: 0,
        lastError: null,
        startedAt: null,
        finishedAt: null,
        output: null
      })
    ),
    input: args.input,
    idempotencyKey: args.idempotencyKey,
    lockedBy: null,
    lockedUntil: null,
    nextRunAt: args.now,
    lastError: null,
    createdAt: args.now,
    updatedAt: args.now,
    finishedAt: null
  })

// Transitions build records from a record already validated (decoded or made above) and typed
// patches, and the repository encodes through the schema on save: re-validating every field on every
// transition only cost CPU on the engine's hot path.
const workflow = (props: ConstructorParameters<typeof ProvisioningWorkflow>[0]) => new ProvisioningWorkflow(props, true)
const workflowStep = (props: ConstructorParameters<typeof WorkflowStep>[0]) => new WorkflowStep(props, true)

/** Statuses no worker will touch again. */
export const isTerminal = (status: WorkflowStatus): boolean =>
  status === "SUCCEEDED" || status === "FAILED" || status === "COMPENSATED" || status === "REQUIRES_MANUAL"

/** What a worker has to do next with a (non-terminal) workflow. */
export type Phase =
  | { readonly _tag: "RunStep"; readonly index: number }
  | { readonly _tag: "GiveUp"; readonly failedIndex: number }
  | { readonly _tag: "Complete" }

export const phase = (wf: ProvisioningWorkflow): Phase => {
  const failed = wf.steps.findIndex((s) => s.status === "FAILED")
  if (failed >= 0) return { _tag: "GiveUp", failedIndex: failed }
  const next = wf.steps.findIndex((s) => s.status === "PENDING" || s.status === "RUNNING")
  return next >= 0 ? { _tag: "RunStep", index: next } : { _tag: "Complete" }
}

const withStep = (
  wf: ProvisioningWorkflow,
  index: number,
  patch: Partial<WorkflowStep>,
  rest: Partial<ProvisioningWorkflow>,
  now: DateTime.Utc
): ProvisioningWorkflow =>
  workflow({
    ...wf,
    ...rest,
    steps: wf.steps.map((s, i) => (i === index ? workflowStep({ ...s, ...patch }) : s)),
    updatedAt: now
  })

/** The worker starts (or restarts) step `index` and extends its lease to `leaseUntil`. */
export const startStep = (
  wf: ProvisioningWorkflow,
  index: number,
  now: DateTime.Utc,
  workerId: string,
  leaseUntil: DateTime.Utc
): ProvisioningWorkflow =>
  withStep(
    wf,
    index,
    { status: "RUNNING", attempts: wf.steps[index]!.attempts + 1, startedAt: now, finishedAt: null },
    { status: "RUNNING", lockedBy: workerId, lockedUntil: leaseUntil },
    now
  )

export const stepSucceeded = (
  wf: ProvisioningWorkflow,
  index: number,
  output: unknown,
  now: DateTime.Utc,
  status: "SUCCEEDED" | "SKIPPED" = "SUCCEEDED"
): ProvisioningWorkflow =>
  withStep(wf, index, { status, lastError: null, finishedAt: now, output: output ?? null }, {}, now)

/** The step failed but may be retried at `nextRunAt`; the lease is given up so any worker can resume. */
export const stepRetryLater = (
  wf: ProvisioningWorkflow,
  index: number,
  error: string,
  nextRunAt: DateTime.Utc,
  now: DateTime.Utc
): ProvisioningWorkflow =>
  withStep(
    wf,
    index,
    { status: "PENDING", lastError: error, finishedAt: now },
    { nextRunAt, lastError: error, lockedBy: null, lockedUntil: null },
    now
  )

/** The step ran out of attempts: it is FAILED and the steps after it will never run. */
export const stepGaveUp = (wf: ProvisioningWorkflow, index: number, error: string, now: DateTime.Utc): ProvisioningWorkflow =>
  workflow({
    ...wf,
    lastError: error,
    updatedAt: now,
    steps: wf.steps.map((s, i) =>
      i === index
        ? workflowStep({ ...s, status: "FAILED", lastError: error, finishedAt: now })
        : i > index && (s.status === "PENDING" || s.status === "RUNNING")
        ? workflowStep({ ...s, status: "SKIPPED", finishedAt: now })
        : s
    )
  })

/** Marks the remaining steps SKIPPED (a newer status made them moot). */
export const skipRemaining = (wf: ProvisioningWorkflow, fromIndex: number, reason: string, now: DateTime.Utc) =>
  workflow({
    ...wf,
    updatedAt: now,
    steps: wf.steps.map((s, i) =>
      i >= fromIndex && (s.status === "PENDING" || s.status === "RUNNING")
        ? workflowStep({ ...s, status: "SKIPPED", lastError: reason, finishedAt: now })
        : s
    )
  })

export const stepCompensated = (wf: ProvisioningWorkflow, index: number, now: DateTime.Utc): ProvisioningWorkflow =>
  withStep(wf, index, { status: "COMPENSATED", finishedAt: now }, {}, now)

/** Ends the workflow and releases its lease. */
export const finish = (
  wf: ProvisioningWorkflow,
  status: "SUCCEEDED" | "FAILED" | "COMPENSATED" | "REQUIRES_MANUAL",
  now: DateTime.Utc,
  lastError: string | null = wf.lastError
): ProvisioningWorkflow =>
  workflow({
    ...wf,
    status,
    lastError,
    lockedBy: null,
    lockedUntil: null,
    finishedAt: now,
    updatedAt: now
  })

/** Gives the lease up without finishing, due again at `nextRunAt`. */
export const release = (wf: ProvisioningWorkflow, nextRunAt: DateTime.Utc, now: DateTime.Utc): ProvisioningWorkflow =>
  workflow({ ...wf, lockedBy: null, lockedUntil: null, nextRunAt, updatedAt: now })

/** The output a succeeded step stored (e.g. the allocated address), if any. */
export const outputOf = (wf: ProvisioningWorkflow, name: string): unknown =>
  wf.steps.find((s) => s.name === name && s.status === "SUCCEEDED")?.output ?? null

/** Lease end for a lease of `leaseMillis` starting `now`. */
export const leaseUntil = (now: DateTime.Utc, leaseMillis: number): DateTime.Utc =>
  DateTime.add(now, { millis: leaseMillis })
