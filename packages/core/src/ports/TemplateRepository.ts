/**
 * Persistence port for service templates.
 *
 * @since 0.1.0
 */
import { Context, type Effect, type Option } from "effect"
import type { Conflict } from "../domain/Errors.js"
import type { TemplateId } from "../domain/Ids.js"
import type { ServiceTemplate } from "../domain/ServiceTemplate.js"
import type { FilterQuery, Page } from "../filters/Ast.js"

export interface TemplateRepository {
  /** Fails with `Conflict` when the template `name` is taken. */
  readonly insert: (template: ServiceTemplate) => Effect.Effect<void, Conflict>
  /** Replaces the stored template; `Conflict` on a name clash. */
  readonly update: (template: ServiceTemplate) => Effect.Effect<void, Conflict>
  readonly findById: (id: TemplateId) => Effect.Effect<Option.Option<ServiceTemplate>>
  /** One batched lookup (the "selectinload" of includes); unknown ids are simply absent. */
  readonly getMany: (ids: ReadonlyArray<TemplateId>) => Effect.Effect<ReadonlyArray<ServiceTemplate>>
  readonly search: (query: FilterQuery) => Effect.Effect<Page<ServiceTemplate>>
}

export const TemplateRepository = Context.GenericTag<TemplateRepository>("@isp-framework/core/TemplateRepository")
