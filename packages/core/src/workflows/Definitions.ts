/**
 * Workflow definitions — pure data: for each workflow kind, the ordered steps it runs and the
 * compensation of each step. The engine interprets these; the step functions (Steps.ts) carry them out.
 *
 * Every step is desired-state shaped: it reads the service as the database holds it *now* and makes the
 * network match, so re-running a step (after a crash, a lost lease or a retry) is always safe and two
 * workflows of one service converge on the latest status.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { ChangeMethod, SuspensionReason, SuspensionType, type WorkflowKind } from "../domain/Enums.js"
import { TemplateId } from "../domain/Ids.js"

/** Every step name the engine knows. */
export const StepName = Schema.Literal(
  // ACTIVATE
  "allocate_ip",
  "radius_user",
  "router_config",
  "activate",
  "billing",
  // SUSPEND / RESUME / CHANGE_SPEED / CHANGE_PLAN
  "radius_profile",
  "live_session",
  // TERMINATE
  "radius_disable",
  "router_remove",
  "disconnect",
  "release_ip"
)
export type StepName = typeof StepName.Type

/** One step of a definition and the step that undoes it when an activation gives up. */
export interface StepDefinition {
  readonly name: StepName
  /** Undo run in reverse order when an ACTIVATE workflow is compensated; null = nothing to undo. */
  readonly compensation: "release_ip" | "remove_radius_user" | "remove_router_config" | null
}

const step = (name: StepName, compensation: StepDefinition["compensation"] = null): StepDefinition => ({
  name,
  compensation
})

/**
 * The ordered steps of each kind.
 *
 * - ACTIVATE: allocate_ip → radius_user → router_config → activate (lifecycle ProvisioningSucceeded) → billing
 *   (BillingHooks.onActivated; a separate step so a crash after activation does not re-run the transition).
 * - SUSPEND / RESUME: the status was changed when the request was accepted (it *is* the desired state);
 *   radius_profile → router_config → live_session (CoA, falling back to Disconnect) → billing.
 * - CHANGE_SPEED / CHANGE_PLAN: radius_profile → router_config → live_session.
 * - TERMINATE: radius_disable → router_remove → disconnect → release_ip (into quarantine) → billing.
 */
export const definitions: { readonly [K in WorkflowKind]: ReadonlyArray<StepDefinition> } = {
  ACTIVATE: [
    step("allocate_ip", "release_ip"),
    step("radius_user", "remove_radius_user"),
    step("router_config", "remove_router_config"),
    step("activate"),
    step("billing")
  ],
  SUSPEND: [step("radius_profile"), step("router_config"), step("live_session"), step("billing")],
  RESUME: [step("radius_profile"), step("router_config"), step("live_session"), step("billing")],
  CHANGE_SPEED: [step("radius_profile"), step("router_config"), step("live_session")],
  CHANGE_PLAN: [step("radius_profile"), step("router_config"), step("live_session")],
  TERMINATE: [step("radius_disable"), step("router_remove"), step("disconnect"), step("release_ip"), step("billing")]
}

/** The step names of a kind, in order. */
export const stepsOf = (kind: WorkflowKind): ReadonlyArray<StepName> => definitions[kind].map((s) => s.name)

/** The compensation of a step of a kind (null when it has none or the kind is never compensated). */
export const compensationOf = (kind: WorkflowKind, name: string): StepDefinition["compensation"] =>
  definitions[kind].find((s) => s.name === name)?.compensation ?? null

/** Only activations are rolled back; the other kinds leave the service in its (desired) status. */
export const isCompensable = (kind: WorkflowKind): boolean => kind === "ACTIVATE"

/** Who asked, stored in the workflow input so the engine's status changes are attributed. */
export const WorkflowActor = Schema.Struct({ changedBy: Schema.String, changeMethod: ChangeMethod })
export type WorkflowActor = typeof WorkflowActor.Type

/** The `input` stored with each kind of workflow. */
export const ActivateInput = Schema.Struct({ actor: WorkflowActor })
export const SuspendInput = Schema.Struct({
  actor: WorkflowActor,
  reason: SuspensionReason,
  suspensionType: SuspensionType,
  note: Schema.NullOr(Schema.String)
})
export const ResumeInput = Schema.Struct({ actor: WorkflowActor })
export const TerminateInput = Schema.Struct({ actor: WorkflowActor })
export const ChangeSpeedInput = Schema.Struct({
  actor: WorkflowActor,
  downloadKbps: Schema.Int,
  uploadKbps: Schema.Int
})
export const ChangePlanInput = Schema.Struct({ actor: WorkflowActor, templateId: TemplateId })

/** Reads the actor out of any workflow input (falls back to the system actor). */
export const actorOfInput = (input: unknown): WorkflowActor => {
  const decoded = Schema.decodeUnknownOption(Schema.Struct({ actor: WorkflowActor }))(input)
  return decoded._tag === "Some" ? decoded.value.actor : { changedBy: "system", changeMethod: "AUTOMATIC" }
}
