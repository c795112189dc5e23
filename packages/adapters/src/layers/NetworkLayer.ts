/**
 * The three network ports — `RadiusProvisioner`, `RouterProvisioner`, `NasSessionControl` — each
 * either real or simulated, chosen by options (or by the environment with {@link layerConfig}):
 *
 * - RADIUS `"sql"`: FreeRADIUS's SQL tables in the same database (`SqlRadiusProvisioner`); needs `SqlClient`.
 * - routers: a RouterOS registry `{ routerId: { host, user, password, ... } }` (`RouterOsProvisioner`,
 *   its `inspectService` translated to canonical spelling by `CanonicalRouter`);
 * - NAS: a registry `{ nasId: { host, port, secret } }` (`NasSessionControlLive` over the CoA client);
 * - `"simulated"` for any of them: the in-memory simulators of `@isp-framework/core` (nothing leaves
 *   the process).
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import {
  type NasSessionControl,
  type RadiusProvisioner,
  type RouterProvisioner,
  SimulatedNas,
  SimulatedRadius,
  SimulatedRouter
} from "@isp-framework/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { CoaClientConfig } from "../radius/CoaClient.js"
import * as NasSessionControlLive from "../radius/NasSessionControlLive.js"
import * as SqlRadiusProvisioner from "../radius/SqlRadiusProvisioner.js"
import type { RouterOsRouters } from "../routeros/RouterOsClient.js"
import * as RouterOsProvisioner from "../routeros/RouterOsProvisioner.js"
import * as CanonicalRouter from "./CanonicalRouter.js"

/**
 * What to talk to.
 *
 * @since 0.1.0
 */
export interface NetworkOptions {
  /** Default `"sql"`. */
  readonly radius?: "sql" | "simulated" | undefined
  /** RouterOS routers by id, or `"simulated"` (default). */
  readonly routers?: RouterOsRouters | "simulated" | undefined
  readonly routerOptions?: RouterOsProvisioner.RouterOsProvisionerOptions | undefined
  /** NASes by id (the service's router id) with the CoA client's settings, or `"simulated"` (default). */
  readonly nas?:
    | { readonly registry: NasSessionControlLive.NasRegistry; readonly coa?: CoaClientConfig | undefined }
    | "simulated"
    | undefined
}

/**
 * The network ports.
 *
 * @since 0.1.0
 */
export type NetworkPorts = RadiusProvisioner | RouterProvisioner | NasSessionControl

/**
 * The network ports as chosen by `options`.
 *
 * @since 0.1.0
 */
export const layer = (options: NetworkOptions = {}): Layer.Layer<NetworkPorts, never, SqlClient.SqlClient> => {
  const radius: Layer.Layer<RadiusProvisioner, never, SqlClient.SqlClient> = options.radius === "simulated"
    ? SimulatedRadius.layer
    : SqlRadiusProvisioner.layer
  const routers = options.routers ?? "simulated"
  const router: Layer.Layer<RouterProvisioner> = routers === "simulated"
    ? SimulatedRouter.layer
    : CanonicalRouter.layer(RouterOsProvisioner.layer(routers, options.routerOptions), {
      commentPrefix: options.routerOptions?.commentPrefix
    })
  const nasOption = options.nas ?? "simulated"
  const nas: Layer.Layer<NasSessionControl> = nasOption === "simulated"
    ? SimulatedNas.layer
    : NasSessionControlLive.layer(nasOption.registry, nasOption.coa ?? {})
  return Layer.mergeAll(radius, router, nas)
}

/**
 * The options from the environment: `RADIUS_MODE` (`sql` | `simulated`, default `sql`),
 * `ROUTEROS_ROUTERS` (JSON `{ "<routerId>": { "host": ..., "port": ..., "user": ..., "password": ... } }`;
 * unset = simulated), `NAS_REGISTRY` (JSON `{ "<nasId>": { "host": ..., "port": 3799, "secret": ... } }`;
 * unset = simulated).
 *
 * @since 0.1.0
 */
export const optionsConfig: Config.Config<NetworkOptions> = Config.all({
  radius: Config.withDefault(Config.literal("sql", "simulated")("RADIUS_MODE"), "sql" as const),
  routers: Config.option(Config.string("ROUTEROS_ROUTERS")),
  nas: Config.option(Config.string("NAS_REGISTRY"))
}).pipe(
  Config.mapOrFail(({ nas, radius, routers }) => {
    try {
      return Either.right<NetworkOptions>({
        radius,
        routers: Option.match(routers, { onNone: () => "simulated" as const, onSome: (json) => JSON.parse(json) }),
        nas: Option.match(nas, { onNone: () => "simulated" as const, onSome: (json) => ({ registry: JSON.parse(json) }) })
      })
    } catch (e) {
      return Either.left(ConfigError.InvalidData([], `ROUTEROS_ROUTERS / NAS_REGISTRY are not valid JSON: ${String(e)}`))
    }
  })
)

/**
 * {@link layer} with options read from the environment ({@link optionsConfig}).
 *
 * @since 0.1.0
 */
export const layerConfig: Layer.Layer<NetworkPorts, ConfigError.ConfigError, SqlClient.SqlClient> = Layer.unwrapEffect(
  Effect.map(optionsConfig, layer)
)
