/**
 * In-memory {@link ServiceRepository}. Every write is one synchronous `Ref.modify`, so the
 * compare-and-set on `version`, the uniqueness rules (service number; PPPoE username among live
 * services) and the history row all happen atomically, as one SQL transaction would.
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Layer, Option, Ref } from "effect"
import type { CustomerService } from "../domain/CustomerService.js"
import { ConcurrentModification, Conflict } from "../domain/Errors.js"
import type { CustomerId, ServiceId } from "../domain/Ids.js"
import type { StatusChange } from "../domain/StatusChange.js"
import type { FilterQuery } from "../filters/Ast.js"
import { runQuery } from "../filters/Evaluate.js"
import { ServiceFilterSpec } from "../filters/specs/ServiceFilterSpec.js"
import { StatusChangeFilterSpec } from "../filters/specs/StatusChangeFilterSpec.js"
import { type AccountingTarget, accountingTargetOf, ServiceRepository, toServiceJson } from "../ports/ServiceRepository.js"

interface State {
  readonly byId: Map<string, CustomerService>
  readonly byNumber: Map<string, string>
  /** Live (not TERMINATED) services only. */
  readonly byUsername: Map<string, string>
  readonly history: Map<string, Array<StatusChange>>
  readonly allHistory: Array<StatusChange>
  seq: number
}

const isLive = (s: CustomerService) => s.status !== "TERMINATED"

/** The first uniqueness rule `service` breaks against the other stored services, if any. */
const uniqueness = (s: State, service: CustomerService): Conflict | null => {
  const numberHolder = s.byNumber.get(service.serviceNumber)
  if (numberHolder !== undefined && numberHolder !== service.id) {
    return new Conflict({ field: "serviceNumber", value: service.serviceNumber })
  }
  if (service.pppoeUsername !== null && isLive(service)) {
    const userHolder = s.byUsername.get(service.pppoeUsername)
    if (userHolder !== undefined && userHolder !== service.id) {
      return new Conflict({ field: "pppoeUsername", value: service.pppoeUsername })
    }
  }
  return null
}

const index = (s: State, previous: CustomerService | undefined, next: CustomerService) => {
  if (previous !== undefined) {
    s.byNumber.delete(previous.serviceNumber)
    if (previous.pppoeUsername !== null && s.byUsername.get(previous.pppoeUsername) === previous.id) {
      s.byUsername.delete(previous.pppoeUsername)
    }
  }
  s.byId.set(next.id, next)
  s.byNumber.set(next.serviceNumber, next.id)
  if (next.pppoeUsername !== null && isLive(next)) s.byUsername.set(next.pppoeUsername, next.id)
}

const record = (s: State, change: StatusChange) => {
  const rows = s.history.get(change.serviceId)
  if (rows === undefined) s.history.set(change.serviceId, [change])
  else rows.push(change)
  s.allHistory.push(change)
}

/**
 * Builds a fresh, empty repository.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<ServiceRepository> = Effect.gen(function*() {
  // Mutated only inside synchronous `Ref.modify` callbacks, which makes each write atomic.
  const ref = yield* Ref.make<State>({
    byId: new Map(),
    byNumber: new Map(),
    byUsername: new Map(),
    history: new Map(),
    allHistory: [],
    seq: 0
  })

  const insert = Effect.fn("MemoryServiceRepository.insert")(function*(service: CustomerService, created: StatusChange) {
    const error = yield* Ref.modify(ref, (s): [Conflict | null, State] => {
      if (s.byId.has(service.id)) return [new Conflict({ field: "id", value: service.id }), s]
      const conflict = uniqueness(s, service)
      if (conflict) return [conflict, s]
      index(s, undefined, service)
      record(s, created)
      return [null, s]
    })
    if (error) return yield* error
  })

  const update = Effect.fn("MemoryServiceRepository.update")(
    function*(next: CustomerService, change: StatusChange | null) {
      const error = yield* Ref.modify(ref, (s): [ConcurrentModification | Conflict | null, State] => {
        const stored = s.byId.get(next.id)
        if (stored === undefined || stored.version !== next.version - 1) {
          return [new ConcurrentModification({ entity: "CustomerService", id: next.id }), s]
        }
        const conflict = uniqueness(s, next)
        if (conflict) return [conflict, s]
        index(s, stored, next)
        if (change !== null) record(s, change)
        return [null, s]
      })
      if (error) return yield* error
    }
  )

  const findById = (id: ServiceId) =>
    Effect.map(Ref.get(ref), (s) => Option.fromNullable(s.byId.get(id))).pipe(
      Effect.withSpan("MemoryServiceRepository.findById")
    )

  const findByUsername = (username: string) =>
    Effect.map(Ref.get(ref), (s) => {
      const id = s.byUsername.get(username)
      return Option.fromNullable(id === undefined ? undefined : s.byId.get(id))
    }).pipe(Effect.withSpan("MemoryServiceRepository.findByUsername"))

  const findAccountingTargets = (usernames: ReadonlyArray<string>) =>
    Effect.map(Ref.get(ref), (s) => {
      const out: Array<AccountingTarget> = []
      for (const name of new Set(usernames)) {
        const id = s.byUsername.get(name)
        const found = id === undefined ? undefined : s.byId.get(id)
        if (found !== undefined) out.push(accountingTargetOf(found))
      }
      return out
    })

  const getMany = (ids: ReadonlyArray<ServiceId>) =>
    Effect.map(Ref.get(ref), (s) => {
      const out: Array<CustomerService> = []
      for (const id of new Set(ids)) {
        const found = s.byId.get(id)
        if (found !== undefined) out.push(found)
      }
      return out
    }).pipe(Effect.withSpan("MemoryServiceRepository.getMany"))

  const search = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => runQuery(ServiceFilterSpec, query, s.byId.values())).pipe(
      Effect.withSpan("MemoryServiceRepository.search")
    )

  const searchJson = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => {
      const page = runQuery(ServiceFilterSpec, query, s.byId.values())
      return { items: page.items.map(toServiceJson), nextCursor: page.nextCursor }
    }).pipe(Effect.withSpan("MemoryServiceRepository.searchJson"))

  const nextServiceNumber = Ref.modify(ref, (s): [string, State] => {
    // Skip numbers that were inserted by hand so the result never collides.
    let candidate: string
    do {
      s.seq += 1
      candidate = `SVC-${String(s.seq).padStart(6, "0")}`
    } while (s.byNumber.has(candidate))
    return [candidate, s]
  }).pipe(Effect.withSpan("MemoryServiceRepository.nextServiceNumber"))

  const byAtThenId = (a: StatusChange, b: StatusChange) =>
    DateTime.toEpochMillis(a.at) - DateTime.toEpochMillis(b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

  const history = (id: ServiceId) =>
    Effect.map(Ref.get(ref), (s) => [...(s.history.get(id) ?? [])].sort(byAtThenId)).pipe(
      Effect.withSpan("MemoryServiceRepository.history")
    )

  const historyOf = (ids: ReadonlyArray<ServiceId>) =>
    Effect.map(Ref.get(ref), (s) => [...new Set(ids)].flatMap((id) => s.history.get(id) ?? []).sort(byAtThenId)).pipe(
      Effect.withSpan("MemoryServiceRepository.historyOf")
    )

  const searchHistory = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => runQuery(StatusChangeFilterSpec, query, s.allHistory)).pipe(
      Effect.withSpan("MemoryServiceRepository.searchHistory")
    )

  const countByCustomer = (customerId: CustomerId) =>
    Effect.map(Ref.get(ref), (s) => {
      let n = 0
      for (const service of s.byId.values()) if (service.customerId === customerId) n++
      return n
    }).pipe(Effect.withSpan("MemoryServiceRepository.countByCustomer"))

  return ServiceRepository.of({
    insert,
    update,
    findById,
    findByUsername,
    findAccountingTargets,
    getMany,
    search,
    searchJson,
    nextServiceNumber,
    history,
    historyOf,
    searchHistory,
    countByCustomer
  })
})

/**
 * A layer with a fresh, empty store.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<ServiceRepository> = Layer.effect(ServiceRepository, make)
