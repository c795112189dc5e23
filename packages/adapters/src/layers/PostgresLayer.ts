/**
 * Every port the database backs, over one `SqlClient` (PostgreSQL or PGlite, from `Database.ts`):
 * the template, service, workflow, alert and token repositories, the IP allocator and the
 * `Transactor`. Migrate first (`Migrations.layer()`), then provide this.
 *
 * ```ts
 * const Db = Layer.provideMerge(PostgresLayer.layer, Layer.provideMerge(Migrations.layer({ freeradius: true }), Database.layer))
 * ```
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type {
  AlertRepository,
  IpAllocator,
  ServiceRepository,
  TemplateRepository,
  Transactor,
  WorkflowRepository
} from "@isp-framework/core"
import * as Layer from "effect/Layer"
import * as PgIpAllocator from "../postgres/ip/PgIpAllocator.js"
import * as PgAlertRepository from "../postgres/PgAlertRepository.js"
import * as PgServiceRepository from "../postgres/PgServiceRepository.js"
import * as PgTemplateRepository from "../postgres/PgTemplateRepository.js"
import * as PgTokenRepository from "../postgres/PgTokenRepository.js"
import * as PgTransactor from "../postgres/PgTransactor.js"
import * as PgWorkflowRepository from "../postgres/PgWorkflowRepository.js"

/**
 * The ports {@link layer} provides.
 *
 * @since 0.1.0
 */
export type PostgresPorts =
  | TemplateRepository
  | ServiceRepository
  | WorkflowRepository
  | AlertRepository
  | IpAllocator
  | Transactor.Transactor
  | Layer.Layer.Success<typeof PgTokenRepository.layer>

/**
 * The repositories, the IP allocator and the transactor over the ambient `SqlClient`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<PostgresPorts, never, SqlClient.SqlClient> = Layer.mergeAll(
  PgTemplateRepository.layer,
  PgServiceRepository.layer,
  PgWorkflowRepository.layer,
  PgAlertRepository.layer,
  PgTokenRepository.layer,
  PgIpAllocator.layer,
  PgTransactor.layer
)
