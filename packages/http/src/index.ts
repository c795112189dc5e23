/**
 * @isp-framework/http — the v1 HTTP API: contract (`Api`), bearer auth (`Security`), handlers and a
 * layer to mount in an ISP's own server (`HttpLayer`).
 *
 * @since 0.1.0
 */
export * as Api from "./Api.js"
export * as Errors from "./Errors.js"
export * as Handlers from "./Handlers.js"
export * as HttpLayer from "./HttpLayer.js"
export * as Security from "./Security.js"
export { IspApi } from "./Api.js"
