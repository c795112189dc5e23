/**
 * In-memory {@link TemplateRepository}: a `Ref` over a map, with the unique-name rule enforced
 * inside one atomic `Ref.modify` so concurrent inserts cannot both take a name.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Option, Ref } from "effect"
import { Conflict } from "../domain/Errors.js"
import type { TemplateId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import type { FilterQuery } from "../filters/Ast.js"
import { runQuery } from "../filters/Evaluate.js"
import { TemplateFilterSpec } from "../filters/specs/TemplateFilterSpec.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"

interface State {
  readonly byId: Map<string, ServiceTemplate>
  readonly byName: Map<string, string>
}

/**
 * Builds a fresh, empty repository.
 *
 * @since 0.1.0
 */
export const make: Effect.Effect<TemplateRepository> = Effect.gen(function*() {
  // The maps are mutated inside `Ref.modify`: the callback is synchronous, so each write is atomic
  // with respect to other fibers, and we avoid copying the whole store on every write.
  const ref = yield* Ref.make<State>({ byId: new Map(), byName: new Map() })

  const nameClash = (s: State, t: ServiceTemplate): Conflict | null => {
    const holder = s.byName.get(t.name)
    return holder !== undefined && holder !== t.id ? new Conflict({ field: "name", value: t.name }) : null
  }

  const insert = Effect.fn("MemoryTemplateRepository.insert")(function*(template: ServiceTemplate) {
    const error = yield* Ref.modify(ref, (s): [Conflict | null, State] => {
      if (s.byId.has(template.id)) return [new Conflict({ field: "id", value: template.id }), s]
      const clash = nameClash(s, template)
      if (clash) return [clash, s]
      s.byId.set(template.id, template)
      s.byName.set(template.name, template.id)
      return [null, s]
    })
    if (error) return yield* error
  })

  const update = Effect.fn("MemoryTemplateRepository.update")(function*(template: ServiceTemplate) {
    const error = yield* Ref.modify(ref, (s): [Conflict | null, State] => {
      const stored = s.byId.get(template.id)
      // Like SQL's UPDATE: an unknown id changes nothing.
      if (stored === undefined) return [null, s]
      const clash = nameClash(s, template)
      if (clash) return [clash, s]
      s.byName.delete(stored.name)
      s.byName.set(template.name, template.id)
      s.byId.set(template.id, template)
      return [null, s]
    })
    if (error) return yield* error
  })

  const findById = (id: TemplateId) =>
    Effect.map(Ref.get(ref), (s) => Option.fromNullable(s.byId.get(id))).pipe(
      Effect.withSpan("MemoryTemplateRepository.findById")
    )

  const getMany = (ids: ReadonlyArray<TemplateId>) =>
    Effect.map(Ref.get(ref), (s) => {
      const out: Array<ServiceTemplate> = []
      for (const id of new Set(ids)) {
        const t = s.byId.get(id)
        if (t !== undefined) out.push(t)
      }
      return out
    }).pipe(Effect.withSpan("MemoryTemplateRepository.getMany"))

  const search = (query: FilterQuery) =>
    Effect.map(Ref.get(ref), (s) => runQuery(TemplateFilterSpec, query, s.byId.values())).pipe(
      Effect.withSpan("MemoryTemplateRepository.search")
    )

  return TemplateRepository.of({ insert, update, findById, getMany, search })
})

/**
 * A layer with a fresh, empty store.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<TemplateRepository> = Layer.effect(TemplateRepository, make)
