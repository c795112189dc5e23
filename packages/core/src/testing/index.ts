/**
 * Test support for ISP Framework and its adapters: the repository contract suites (vitest) and
 * model fixtures / fast-check arbitraries. Import from `@isp-framework/core/testing`; it depends
 * on `vitest`, `@effect/vitest` and `fast-check`, so keep it out of production bundles.
 *
 * @since 0.1.0
 */
export * as Fixtures from "./Fixtures.js"
export * as RepositoryContracts from "./RepositoryContracts.js"
