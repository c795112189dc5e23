/**
 * The database every Postgres test stands on: a migrated `SqlClient` plus {@link TestDatabaseInfo}.
 *
 * Which database (first match):
 * 1. `DATABASE_URL` set: that server; this test file gets its OWN fresh database
 *    (`CREATE DATABASE isp_test_<random>`, migrated, `DROP DATABASE … WITH (FORCE)` when the layer is
 *    released), so test files running in parallel never see each other's rows.
 * 2. a Docker engine (`DOCKER_HOST` or a docker socket): a throwaway PostgreSQL container
 *    (testcontainers; image from `TEST_POSTGRES_IMAGE`, default `postgres:16-alpine`).
 * 3. otherwise: an in-memory PGlite.
 *
 * Build it once per test file with `it.layer(TestDatabase.layer())` (PGlite takes seconds to start);
 * isolate tests inside a file with fresh ids. Usage:
 *
 * ```ts
 * import * as TestDatabase from "../support/TestDatabase.js"
 * it.layer(TestDatabase.layer())("repository", (it) => { ... })
 * it.layer(TestDatabase.layerPglite())("repository on PGlite", (it) => { ... })
 * ```
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import * as PgliteClient from "../../src/embedded/PgliteClient.js"
import * as Migrations from "../../src/postgres/Migrations.js"
import * as PgReadPool from "../../src/postgres/PgReadPool.js"

/** Where the test database lives; `url` and the connection fields are set for real PostgreSQL only. */
export interface Info {
  readonly kind: "pg" | "pglite"
  /** Connection URL of this test file's own database. */
  readonly url?: string
  readonly databaseName?: string
  readonly host?: string
  readonly port?: number
  readonly username?: string
  readonly password?: string
}

export class TestDatabaseInfo extends Context.Tag("@isp-framework/adapters/test/TestDatabaseInfo")<
  TestDatabaseInfo,
  Info
>() {}

export interface Options {
  /** Also create the FreeRADIUS `rlm_sql` schema. */
  readonly freeradius?: boolean
  /** Force a kind; `"pg"` fails when neither `DATABASE_URL` nor Docker is available. */
  readonly kind?: "pg" | "pglite"
}

const databaseUrl = (): string | undefined => {
  const url = process.env["DATABASE_URL"]?.trim()
  return url === undefined || url === "" ? undefined : url
}

/** True when a Docker engine looks reachable (testcontainers is only loaded then). */
export const dockerAvailable = (): boolean =>
  (process.env["DOCKER_HOST"] ?? "") !== "" ||
  existsSync("/var/run/docker.sock") ||
  existsSync(join(homedir(), ".docker", "run", "docker.sock"))

/** True when {@link layer} would use real PostgreSQL: use it to skip tests that need real concurrency. */
export const realPostgresAvailable = (): boolean => databaseUrl() !== undefined || dockerAvailable()

const transforms = PgliteClient.defaultTransforms

const migrated = (client: SqlClient.SqlClient, options: Options) =>
  Migrations.migrate({ freeradius: options.freeradius === true }).pipe(
    Effect.provideService(SqlClient.SqlClient, client)
  )

const contextOf = (client: SqlClient.SqlClient, info: Info) =>
  Context.make(SqlClient.SqlClient, client).pipe(Context.add(TestDatabaseInfo, info))

/** Generous: test files connect in parallel on a shared 2-core machine; PgClient's default is 5 s. */
const connectTimeout = "60 seconds"

/** A fresh database on the server behind `adminUrl`, dropped when the scope closes. */
const freshDatabase = (adminUrl: string, options: Options) =>
  Effect.gen(function*() {
    const admin = yield* PgClient.make({ url: Redacted.make(adminUrl), maxConnections: 1, connectTimeout })
    const databaseName = `isp_test_${randomBytes(6).toString("hex")}`
    yield* Effect.acquireRelease(
      admin.unsafe(`CREATE DATABASE ${databaseName}`),
      () =>
        admin.unsafe(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`could not drop ${databaseName}`, cause))
        )
    )
    const url = new URL(adminUrl)
    url.pathname = `/${databaseName}`
    // Closed before the DROP above runs (finalizers run in reverse order).
    // With the read pool, as Database.layerPg builds it: the service searches run on it.
    const { client, readPool } = yield* PgReadPool.make({
      url: Redacted.make(url.toString()),
      applicationName: "isp-framework-test",
      connectTimeout,
      ...transforms
    })
    yield* migrated(client, options)
    const info: Info = {
      kind: "pg",
      url: url.toString(),
      databaseName,
      host: url.hostname === "" ? "localhost" : url.hostname,
      port: url.port === "" ? 5432 : Number(url.port),
      username: decodeURIComponent(url.username === "" ? "postgres" : url.username),
      ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) })
    }
    return contextOf(client, info).pipe(Context.add(PgReadPool.PgReadPool, readPool))
  })

const container: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql")
    return new PostgreSqlContainer(process.env["TEST_POSTGRES_IMAGE"] ?? "postgres:16-alpine").start()
  }),
  (started) => Effect.promise(() => started.stop())
).pipe(Effect.map((started) => started.getConnectionUri()))

const pglite = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* PgliteClient.make(transforms)
    yield* migrated(client, options)
    return contextOf(client, { kind: "pglite" })
  })

const realPostgres = (options: Options) =>
  Effect.gen(function*() {
    const url = databaseUrl()
    if (url !== undefined) return yield* freshDatabase(url, options)
    if (dockerAvailable()) return yield* freshDatabase(yield* container, options)
    return yield* Effect.dieMessage("TestDatabase: kind \"pg\" needs DATABASE_URL or a Docker engine")
  })

/**
 * A migrated database for one test file (see the module comment for how it is chosen).
 * Setup failures are defects: the suite fails with the cause.
 */
export const layer = (options: Options = {}): Layer.Layer<SqlClient.SqlClient | TestDatabaseInfo> => {
  const kind = options.kind ?? (realPostgresAvailable() ? "pg" : "pglite")
  return Layer.scopedContext(kind === "pg" ? realPostgres(options) : pglite(options)).pipe(
    Layer.provide(Reactivity.layer),
    Layer.orDie
  )
}

/** Always an in-memory PGlite (CI runs the Postgres contract suites on both kinds). */
export const layerPglite = (options: Omit<Options, "kind"> = {}) => layer({ ...options, kind: "pglite" })

/** Always real PostgreSQL (a fresh database on `DATABASE_URL`'s server, or a container). */
export const layerPg = (options: Omit<Options, "kind"> = {}) => layer({ ...options, kind: "pg" })
