/**
 * ServiceCatalog — the use-case for what can be sold: create and update templates, list them with
 * filter dicts, and answer "what can I sell at this location now?".
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Option } from "effect"
import { TemplateNotAvailable, TemplateNotFound, ValidationError } from "../domain/Errors.js"
import type { TemplateId } from "../domain/Ids.js"
import { type CreateTemplate, requiredPart, ServiceTemplate, type UpdateTemplate } from "../domain/ServiceTemplate.js"
import type { Page } from "../filters/Ast.js"
import { parse } from "../filters/Parse.js"
import { TemplateFilterSpec } from "../filters/specs/TemplateFilterSpec.js"
import { newId } from "../internal/uuid.js"
import { TemplateRepository } from "../ports/TemplateRepository.js"

/** Why a template cannot be sold at `location` at `now`, or none when it can. */
export const unavailabilityReason = (
  template: ServiceTemplate,
  location: string | null,
  now: DateTime.Utc
): Option.Option<string> => {
  if (!template.isActive) return Option.some("template is inactive")
  if (template.availableFrom !== null && DateTime.lessThan(now, template.availableFrom)) {
    return Option.some(`on sale from ${DateTime.formatIso(template.availableFrom)}`)
  }
  if (template.availableUntil !== null && !DateTime.lessThan(now, template.availableUntil)) {
    return Option.some(`sale ended ${DateTime.formatIso(template.availableUntil)}`)
  }
  if (template.availableLocations.length > 0) {
    if (location === null) return Option.some("a location is required for this template")
    if (!template.availableLocations.includes(location)) return Option.some(`not offered at location ${location}`)
  }
  return Option.none()
}

/** Checks that the template's shape is consistent: the part its type needs is there, windows are ordered. */
const validateShape = (t: ServiceTemplate | CreateTemplate): Effect.Effect<void, ValidationError> => {
  const part = requiredPart(t.serviceType)
  if (part !== null && t[part] === null) {
    return Effect.fail(new ValidationError({ field: part, reason: `required for ${t.serviceType} templates` }))
  }
  if (t.availableFrom !== null && t.availableUntil !== null && !DateTime.lessThan(t.availableFrom, t.availableUntil)) {
    return Effect.fail(new ValidationError({ field: "availableUntil", reason: "must be after availableFrom" }))
  }
  const tiers = t.internet?.fup?.tiers ?? []
  for (let i = 1; i < tiers.length; i++) {
    if (tiers[i]!.thresholdBytes <= tiers[i - 1]!.thresholdBytes) {
      return Effect.fail(new ValidationError({ field: "internet.fup.tiers", reason: "thresholds must increase" }))
    }
  }
  return Effect.void
}

export class ServiceCatalog extends Effect.Service<ServiceCatalog>()("@isp-framework/core/ServiceCatalog", {
  effect: Effect.gen(function*() {
    const repo = yield* TemplateRepository

    const get = Effect.fn("ServiceCatalog.get")(function*(id: TemplateId) {
      return yield* Effect.flatMap(
        repo.findById(id),
        Option.match({
          onNone: () => Effect.fail(new TemplateNotFound({ templateId: id })),
          onSome: Effect.succeed
        })
      )
    })

    /** Bundle children must exist and must not themselves be bundles (no cycles by construction). */
    const checkBundle = (t: ServiceTemplate) =>
      Effect.gen(function*() {
        if (t.bundle === null) return
        const children = yield* repo.getMany(t.bundle.childTemplateIds)
        for (const childId of t.bundle.childTemplateIds) {
          const child = children.find((c) => c.id === childId)
          if (child === undefined) return yield* new TemplateNotFound({ templateId: childId })
          if (child.serviceType === "BUNDLE") {
            return yield* new ValidationError({ field: "bundle.childTemplateIds", reason: "a bundle cannot contain a bundle" })
          }
        }
      })

    const create = Effect.fn("ServiceCatalog.create")(function*(input: CreateTemplate) {
      yield* validateShape(input)
      const now = yield* DateTime.now
      const template = new ServiceTemplate({ ...input, id: yield* newId<TemplateId>(), createdAt: now, updatedAt: now })
      yield* checkBundle(template)
      yield* repo.insert(template)
      return template
    })

    const update = Effect.fn("ServiceCatalog.update")(function*(id: TemplateId, patch: UpdateTemplate) {
      const current = yield* get(id)
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
      const next = new ServiceTemplate({ ...current, ...defined, updatedAt: yield* DateTime.now })
      yield* validateShape(next)
      yield* checkBundle(next)
      yield* repo.update(next)
      return next
    })

    /** Lists templates with a filter dict (`{ service_type: "INTERNET", is_active: true, order_by: "name" }`). */
    const list = Effect.fn("ServiceCatalog.list")(function*(filters: unknown) {
      const query = yield* parse(TemplateFilterSpec, filters)
      return yield* repo.search(query)
    })

    /** Active templates that can be sold at `location` now (all pages; catalogs are small). */
    const availableAt = Effect.fn("ServiceCatalog.availableAt")(function*(location: string | null) {
      const now = yield* DateTime.now
      const out: Array<ServiceTemplate> = []
      let cursor: string | null = null
      do {
        const dict: Record<string, unknown> = { is_active: true, limit: 500, ...(cursor ? { cursor } : {}) }
        const page: Page<ServiceTemplate> = yield* Effect.orDie(
          Effect.flatMap(parse(TemplateFilterSpec, dict), repo.search)
        )
        for (const t of page.items) if (Option.isNone(unavailabilityReason(t, location, now))) out.push(t)
        cursor = page.nextCursor
      } while (cursor !== null)
      return out
    })

    /** The template, if it can be sold at `location` now; `TemplateNotAvailable` says why not. */
    const requireAvailable = Effect.fn("ServiceCatalog.requireAvailable")(function*(
      id: TemplateId,
      location: string | null
    ) {
      const template = yield* get(id)
      const reason = unavailabilityReason(template, location, yield* DateTime.now)
      if (Option.isSome(reason)) return yield* new TemplateNotAvailable({ templateId: id, reason: reason.value })
      return template
    })

    return { get, create, update, list, availableAt, requireAvailable } as const
  })
}) {}
