/**
 * Shared plumbing for the repository contract suites.
 *
 * @since 0.1.0
 */
import { layer as vitestLayer } from "@effect/vitest"
import type { Vitest } from "@effect/vitest"
import { expect } from "@effect/vitest"
import { type Duration, Effect, Either, type Layer, Schema } from "effect"
import type { FilterQuery, Page } from "../filters/Ast.js"
import type { EntitySpec } from "../filters/FieldSpec.js"
import { parse } from "../filters/Parse.js"

/**
 * Options for running a contract suite.
 *
 * @since 0.1.0
 */
export interface ContractOptions {
  /** Time allowed to build the layer (an embedded database needs a few seconds). */
  readonly timeout?: Duration.DurationInput
  /** Share layer construction between suites (e.g. one PGlite for all four). */
  readonly memoMap?: Layer.MemoMap
}

/**
 * Declares `describe(name)` whose tests share one instance of `layer` (with Effect's test services,
 * so `TestClock` drives time).
 *
 * @internal
 */
export const suite = <R, E>(
  name: string,
  layer: Layer.Layer<R, E>,
  options: ContractOptions | undefined,
  body: (it: Vitest.MethodsNonLive<R>) => void
): void => {
  const opts: { timeout?: Duration.DurationInput; memoMap?: Layer.MemoMap } = {}
  if (options?.timeout !== undefined) opts.timeout = options.timeout
  if (options?.memoMap !== undefined) opts.memoMap = options.memoMap
  vitestLayer(layer, opts)(name, body)
}

/**
 * Parses a filter dict; a bad dict is a bug in the suite, hence a defect.
 *
 * @internal
 */
export const query = <A>(spec: EntitySpec<A>, dict: Record<string, unknown>): Effect.Effect<FilterQuery> =>
  Effect.orDie(parse(spec, dict))

/**
 * Follows `nextCursor` from the first page to the last, returning every item and the page count.
 *
 * @internal
 */
export const collectPages = <A>(
  spec: EntitySpec<A>,
  dict: Record<string, unknown>,
  search: (q: FilterQuery) => Effect.Effect<Page<A>>
): Effect.Effect<{ readonly items: ReadonlyArray<A>; readonly pages: number }> =>
  Effect.gen(function*() {
    const items: Array<A> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: Page<A> = yield* Effect.flatMap(query(spec, cursor === null ? dict : { ...dict, cursor }), search)
      items.push(...page.items)
      cursor = page.nextCursor
      pages++
      if (pages > 1000) return yield* Effect.dieMessage("pagination does not terminate")
    } while (cursor !== null)
    return { items, pages }
  })

/**
 * Asserts that two model values are the same by comparing their encoded (JSON) forms, which is
 * independent of how a backend rebuilds instances (DateTime caches, class identity).
 *
 * @internal
 */
export const expectSame = <A, I>(schema: Schema.Schema<A, I>, actual: A, expected: A): void => {
  const encode = Schema.encodeSync(schema)
  expect(encode(actual)).toStrictEqual(encode(expected))
}

/**
 * Runs `effect` and returns its failure's tag, or fails the test if it succeeded.
 *
 * @internal
 */
export const failureOf = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.either(effect), (result) => {
    if (Either.isRight(result)) throw new Error("expected a failure, got a success")
    return result.left
  })

/**
 * Runs `n` copies of `make(i)` at once and splits the results into successes and failures.
 *
 * @internal
 */
export const race = <A, E, R>(n: number, make: (i: number) => Effect.Effect<A, E, R>) =>
  Effect.map(
    Effect.all(Array.from({ length: n }, (_, i) => Effect.either(make(i))), { concurrency: "unbounded" }),
    (results) => ({
      successes: results.filter(Either.isRight).map((r) => r.right),
      failures: results.filter(Either.isLeft).map((r) => r.left)
    })
  )
