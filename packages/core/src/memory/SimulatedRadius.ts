/**
 * SimulatedRadius — an in-memory {@link RadiusProvisioner} that holds the canonical FreeRADIUS rows of
 * each user (as `Desired.radiusRows` defines them), records every call, and injects faults: fail or hang
 * the next N calls. For tests, demos and the reconciler's drift scenarios (`setUser` / `deleteUser`
 * tamper with the rows behind the provisioner's back).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { RadiusError, RadiusProvisioner, type RadiusUserState } from "../ports/Network.js"
import { radiusRows } from "../workflows/Desired.js"
import { Faults } from "../workflows/internal/faults.js"

/** One call the simulator received. */
export interface RadiusCall {
  readonly operation: "upsertUser" | "removeUser" | "inspectUser"
  readonly username: string
}

export interface SimulatedRadius {
  /** A snapshot of every user's rows. */
  readonly users: Effect.Effect<ReadonlyMap<string, RadiusUserState>>
  readonly calls: Effect.Effect<ReadonlyArray<RadiusCall>>
  /** The next `n` calls (of `operation`, or any) fail with a `RadiusError`. */
  readonly failNext: (n: number, operation?: RadiusCall["operation"]) => Effect.Effect<void>
  /** The next `n` calls (of `operation`, or any) never return. */
  readonly hangNext: (n: number, operation?: RadiusCall["operation"]) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** Overwrites a user's rows directly (drift injection). */
  readonly setUser: (state: RadiusUserState) => Effect.Effect<void>
  /** Deletes a user's rows directly (drift injection). */
  readonly deleteUser: (username: string) => Effect.Effect<void>
}
export const SimulatedRadius = Context.GenericTag<SimulatedRadius>("@isp-framework/core/SimulatedRadius")

/**
 * Builds a simulator and the provisioner backed by it.
 *
 * @since 0.1.0
 */
export const make = Effect.sync(() => {
  const users = new Map<string, RadiusUserState>()
  const calls: Array<RadiusCall> = []
  const faults = new Faults()
  const gate = (operation: RadiusCall["operation"], username: string) =>
    Effect.zipRight(
      Effect.sync(() => calls.push({ operation, username })),
      faults.gate(operation, (reason) => new RadiusError({ operation, reason }))
    )

  const provisioner = RadiusProvisioner.of({
    upsertUser: (spec) => Effect.zipRight(gate("upsertUser", spec.username), Effect.sync(() => {
      users.set(spec.username, radiusRows(spec))
    })),
    removeUser: (username) => Effect.zipRight(gate("removeUser", username), Effect.sync(() => {
      users.delete(username)
    })),
    inspectUser: (username) => Effect.zipRight(gate("inspectUser", username), Effect.sync(() => users.get(username) ?? null))
  })

  const simulator: SimulatedRadius = {
    users: Effect.sync(() => new Map(users)),
    calls: Effect.sync(() => [...calls]),
    failNext: (n, operation) => Effect.sync(() => faults.failNext(n, operation ?? null, "injected RADIUS failure")),
    hangNext: (n, operation) => Effect.sync(() => faults.hangNext(n, operation ?? null)),
    clearFaults: Effect.sync(() => faults.clear()),
    setUser: (state) => Effect.sync(() => void users.set(state.username, state)),
    deleteUser: (username) => Effect.sync(() => void users.delete(username))
  }
  return { provisioner, simulator } as const
})

/**
 * Provides both `RadiusProvisioner` and the `SimulatedRadius` control handle.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<RadiusProvisioner | SimulatedRadius> = Layer.effectContext(
  Effect.map(make, ({ provisioner, simulator }) =>
    Context.make(RadiusProvisioner, provisioner).pipe(Context.add(SimulatedRadius, simulator)))
)
