/**
 * The whole provisioning stack on a database: the use-cases (`ServiceProvisioning`, `ServiceCatalog`,
 * `ServiceLifecycle`), the `WorkflowEngine` and the `Reconciler`, over {@link PostgresLayer.layer},
 * the chosen network ports ({@link NetworkLayer.layer}) and the ISP's `BillingHooks` (default: none).
 * Add workers with `Worker.layer(n)` on top.
 *
 * ```ts
 * const App = ProvisioningLayer.layer({ routers: { "bng-1": { host, user, password } }, nas: { registry } }).pipe(
 *   Layer.provide(Layer.provideMerge(Migrations.layer({ freeradius: true }), Database.layer)))
 * ```
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import {
  type BillingHooks,
  BillingHooksNoop,
  Reconciler,
  ServiceCatalog,
  ServiceLifecycle,
  ServiceProvisioning,
  WorkflowEngine
} from "@isp-framework/core"
import * as Layer from "effect/Layer"
import * as NetworkLayer from "./NetworkLayer.js"
import * as PostgresLayer from "./PostgresLayer.js"

/**
 * What {@link layer} provides.
 *
 * @since 0.1.0
 */
export type ProvisioningServices =
  | ServiceProvisioning
  | ServiceCatalog
  | ServiceLifecycle
  | WorkflowEngine
  | Reconciler.Reconciler
  | PostgresLayer.PostgresPorts
  | NetworkLayer.NetworkPorts
  | BillingHooks

/**
 * The use-cases, engine and reconciler over the database and the network.
 *
 * @since 0.1.0
 */
export const layer = (
  network: NetworkLayer.NetworkOptions = {},
  options: { readonly billing?: Layer.Layer<BillingHooks> | undefined } = {}
): Layer.Layer<ProvisioningServices, never, SqlClient.SqlClient> =>
  fromPorts(Layer.mergeAll(PostgresLayer.layer, NetworkLayer.layer(network), options.billing ?? BillingHooksNoop))

/**
 * The use-cases, engine and reconciler over ports built elsewhere (e.g. a test's own network layer).
 *
 * @since 0.1.0
 */
export const fromPorts = <E, R>(
  ports: Layer.Layer<PostgresLayer.PostgresPorts | NetworkLayer.NetworkPorts | BillingHooks, E, R>
): Layer.Layer<ProvisioningServices, E, R> =>
  Layer.mergeAll(
    ServiceProvisioning.Default,
    WorkflowEngine.Default,
    Reconciler.Reconciler.Default,
    ServiceCatalog.Default,
    ServiceLifecycle.Default
  ).pipe(Layer.provideMerge(ports))
