/**
 * In-memory {@link AlertRepository}. An index of open alerts keyed by (service or pool, cause)
 * is checked and written in the same synchronous `Ref.modify` as the alert itself, so concurrent
 * raises of one cause always end in a single open alert.
 *
 * @since 0.1.0
 */
import { type DateTime, Effect, Layer, Option, Ref } from "effect"
import { AlertAlreadyResolved, AlertNotFound, type RaiseAlert, ServiceAlert } from "../domain/Alert.js"
import type { AlertId } from "../domain/Ids.js"
import type { FilterQuery } from "../filters/Ast.js"
import { runQuery } from "../filters/Evaluate.js"
import { AlertFilterSpec } from "../filters/specs/AlertFilterSpec.js"
import { newId } from "../internal/uuid.js"
import { AlertRepository } from "../ports/AlertRepository.js"

interface State {
  readonly byId: Map<string, ServiceAlert>
  /** Open (OPEN or ACKNOWLEDGED) alerts by dedup key. */
  readonly open: Map<string, string>
}

/** The deduplication key: one open alert per (service, or else pool, or else nothing) and cause. */
const openKey = (a: { readonly serviceId: string | null; readonly poolId: string | null; readonly cause: string }) =>
  JSON.stringify([a.serviceId ?? a.poolId, a.cause])

type Outcome = AlertNotFound | AlertAlreadyResolved | ServiceAlert

/**
 * Builds a fresh, empty repository.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<AlertRepository> = Effect.gen(function*() {
  // Mutated only inside synchronous `Ref.modify` callbacks, which makes each write atomic.
  const ref = yield* Ref.make<State>({ byId: new Map(), open: new Map() })

  const raise = Effect.fn("MemoryAlertRepository.raise")(function*(input: RaiseAlert, at: DateTime.Utc) {
    const id = yield* newId<AlertId>()
    return yield* Ref.modify(ref, (s): [{ readonly alert: ServiceAlert; readonly created: boolean }, State] => {
      const key = openKey(input)
      const openId = s.open.get(key)
      const existing = openId === undefined ? undefined : s.byId.get(openId)
      if (existing !== undefined) {
        const alert = new ServiceAlert({
          ...existing,
          severity: input.severity,
          title: input.title,
          message: input.message,
          thresholdValue: input.thresholdValue,
          currentValue: input.currentValue,
          updatedAt: at
        })
        s.byId.set(alert.id, alert)
        return [{ alert, created: false }, s]
      }
      const alert = new ServiceAlert({
        id,
        serviceId: input.serviceId,
        customerId: input.customerId,
        poolId: input.poolId,
        type: input.type,
        severity: input.severity,
        status: "OPEN",
        title: input.title,
        message: input.message,
        cause: input.cause,
        thresholdValue: input.thresholdValue,
        currentValue: input.currentValue,
        createdAt: at,
        updatedAt: at,
        acknowledgedBy: null,
        acknowledgedAt: null,
        resolvedBy: null,
        resolvedAt: null,
        resolutionNotes: null
      })
      s.byId.set(alert.id, alert)
      s.open.set(key, alert.id)
      return [{ alert, created: true }, s]
    })
  })

  const findById = (id: AlertId) =>
    Effect.map(Ref.get(ref), (s) => Option.fromNullable(s.byId.get(id))).pipe(
      Effect.withSpan("MemoryAlertRepository.findById")
    )

  /** Applies `f` to a stored, unresolved alert; the error cases are shared by acknowledge and resolve. */
  const change = (id: AlertId, f: (alert: ServiceAlert, s: State) => ServiceAlert) =>
    Effect.flatMap(
      Ref.modify(ref, (s): [Outcome, State] => {
        const alert = s.byId.get(id)
        if (alert === undefined) return [new AlertNotFound({ alertId: id }), s]
        if (alert.status === "RESOLVED") return [new AlertAlreadyResolved({ alertId: id }), s]
        const next = f(alert, s)
        s.byId.set(id, next)
        return [next, s]
      }),
      (outcome) => outcome instanceof ServiceAlert ? Effect.succeed(outcome) : Effect.fail(outcome)
    )

  const acknowledge = (id: AlertId, by: string, at: DateTime.Utc) =>
    change(id, (alert) =>
      // Acknowledging twice keeps the first acknowledgement.
      alert.status === "ACKNOWLEDGED" ? alert : new ServiceAlert({
        ...alert,
        status: "ACKNOWLEDGED",
        acknowledgedBy: by,
        acknowledgedAt: at,
        updatedAt: at
      })).pipe(Effect.withSpan("MemoryAlertRepository.acknowledge"))

  const resolve = (id: AlertId, by: string, notes: string | null, at: DateTime.Utc) =>
    change(id, (alert, s) => {
      s.open.delete(openKey(alert))
      return new ServiceAlert({
        ...alert,
        status: "RESOLVED",
        resolvedBy: by,
        resolvedAt: at,
        resolutionNotes: notes,
        updatedAt: at
      })
    }).pipe(Effect.withSpan("MemoryAlertRepository.resolve"))

  const search = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => runQuery(AlertFilterSpec, query, s.byId.values())).pipe(
      Effect.withSpan("MemoryAlertRepository.search")
    )

  return AlertRepository.of({ raise, findById, acknowledge, resolve, search })
})

/**
 * A layer with a fresh, empty store.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<AlertRepository> = Layer.effect(AlertRepository, make)
