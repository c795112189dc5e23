/**
 * Builds a runnable FreeRADIUS 3.2 configuration directory ("raddb") from the stock one plus the few
 * files this repository keeps in `packages/adapters/freeradius/`:
 *
 * - `sites-available/isp-framework`: the virtual server (auth + acct listeners, `sql` in authorize,
 *   accounting and post-auth), the only enabled site;
 * - `mods-available/sql`: `rlm_sql` on PostgreSQL with the stock queries, linked into `mods-enabled/`;
 * - `clients.conf`: one NAS client with a known secret;
 * - `radiusd.conf`: the stock file with `raddbdir`, `logdir`, `run_dir` pointed at the new directory
 *   and, optionally, `user`/`group` removed so it runs as the current user.
 *
 * The stock `eap` module and `inner-tunnel` site are disabled: the framework does not use EAP, and
 * `inner-tunnel` listens on a fixed port (18120) that parallel instances would fight over.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/**
 * The stock configuration directory of Debian's `freeradius` package.
 *
 * @since 0.1.0
 */
export const STOCK_RADDB = "/etc/freeradius/3.0"

/**
 * The repository's overrides (`packages/adapters/freeradius`).
 *
 * @since 0.1.0
 */
export const repositoryConfigDir: string = fileURLToPath(new URL("../../freeradius/", import.meta.url))

/**
 * What {@link writeRaddb} needs.
 *
 * @since 0.1.0
 */
export interface RaddbOptions {
  /** Directory to create (must not exist or be empty). */
  readonly targetDir: string
  /** Stock configuration to copy (default {@link STOCK_RADDB}). */
  readonly sourceDir?: string | undefined
  readonly listenAddress?: string | undefined
  readonly authPort: number
  readonly acctPort: number
  /** Address or CIDR of the NAS client (default 127.0.0.1). */
  readonly clientAddress?: string | undefined
  readonly clientSecret: string
  readonly database: {
    readonly name: string
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly user?: string | undefined
    readonly password?: string | undefined
    readonly poolMax?: number | undefined
  }
  /** Remove `user`/`group` from radiusd.conf so the server runs as the current user (default true). */
  readonly runAsCurrentUser?: boolean | undefined
  /** Seconds FreeRADIUS delays an Access-Reject (stock: 1; tests use 0). */
  readonly rejectDelay?: number | undefined
}

/**
 * The raddb could not be written.
 *
 * @since 0.1.0
 */
export class FreeradiusConfigError extends Schema.TaggedError<FreeradiusConfigError>()("FreeradiusConfigError", {
  reason: Schema.String
}) {
  override get message() {
    return `FreeRADIUS configuration: ${this.reason}`
  }
}

/** Escapes a value for a double-quoted FreeRADIUS string. */
const quoted = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")

/**
 * Replaces `{{NAME}}` placeholders; an unknown placeholder is an error (a typo would otherwise reach
 * FreeRADIUS as literal text).
 *
 * @since 0.1.0
 */
export const renderTemplate = (template: string, values: Readonly<Record<string, string | number>>): string =>
  template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new FreeradiusConfigError({ reason: `no value for {{${name}}}` })
    return typeof value === "number" ? String(value) : quoted(value)
  })

/**
 * Applies the repository's overrides to the stock `radiusd.conf` text.
 *
 * @since 0.1.0
 */
export const patchRadiusdConf = (
  text: string,
  targetDir: string,
  runAsCurrentUser: boolean,
  rejectDelay?: number
): string => {
  const set = (input: string, key: string, value: string) => {
    const pattern = new RegExp(`^${key}\\s*=.*$`, "m")
    if (!pattern.test(input)) throw new FreeradiusConfigError({ reason: `radiusd.conf has no "${key} =" line` })
    return input.replace(pattern, `${key} = ${value}`)
  }
  let out = set(text, "raddbdir", targetDir)
  out = set(out, "logdir", Path.join(targetDir, "log"))
  out = set(out, "run_dir", Path.join(targetDir, "run"))
  if (rejectDelay !== undefined) out = out.replace(/^(\s*)reject_delay\s*=.*$/m, `$1reject_delay = ${rejectDelay}`)
  if (runAsCurrentUser) out = out.replace(/^(\s*)(user|group)\s*=.*$/gm, "$1# $2 removed by isp-framework")
  return out
}

const write = (path: string, text: string) => Fs.writeFileSync(path, text, { mode: 0o640 })

/**
 * Copies the stock configuration to `targetDir` and applies the overrides. Returns `targetDir`.
 *
 * @since 0.1.0
 */
export const writeRaddb = (options: RaddbOptions): Effect.Effect<string, FreeradiusConfigError> =>
  Effect.try({
    try: () => {
      const source = options.sourceDir ?? STOCK_RADDB
      const target = Path.resolve(options.targetDir)
      if (!Fs.existsSync(Path.join(source, "radiusd.conf"))) {
        throw new FreeradiusConfigError({ reason: `no radiusd.conf in ${source} (is freeradius installed?)` })
      }
      Fs.cpSync(source, target, { recursive: true, verbatimSymlinks: true })
      // FreeRADIUS refuses world-writable configuration.
      Fs.chmodSync(target, 0o750)
      Fs.mkdirSync(Path.join(target, "log"), { recursive: true })
      Fs.mkdirSync(Path.join(target, "run"), { recursive: true })

      const values: Record<string, string | number> = {
        LISTEN_ADDRESS: options.listenAddress ?? "127.0.0.1",
        AUTH_PORT: options.authPort,
        ACCT_PORT: options.acctPort,
        CLIENT_ADDRESS: options.clientAddress ?? "127.0.0.1",
        CLIENT_SECRET: options.clientSecret,
        DB_HOST: options.database.host ?? "127.0.0.1",
        DB_PORT: options.database.port ?? 5432,
        DB_USER: options.database.user ?? "postgres",
        DB_PASSWORD: options.database.password ?? "",
        DB_NAME: options.database.name,
        DB_POOL_MAX: options.database.poolMax ?? 4
      }
      const render = (relative: string) =>
        write(
          Path.join(target, relative),
          renderTemplate(Fs.readFileSync(Path.join(repositoryConfigDir, relative), "utf8"), values)
        )

      const radiusd = Path.join(target, "radiusd.conf")
      write(
        radiusd,
        patchRadiusdConf(Fs.readFileSync(radiusd, "utf8"), target, options.runAsCurrentUser ?? true, options.rejectDelay)
      )
      render("clients.conf")
      render("mods-available/sql")
      render("sites-available/isp-framework")

      const sitesEnabled = Path.join(target, "sites-enabled")
      for (const entry of Fs.readdirSync(sitesEnabled)) Fs.rmSync(Path.join(sitesEnabled, entry), { force: true })
      Fs.symlinkSync("../sites-available/isp-framework", Path.join(sitesEnabled, "isp-framework"))

      const modsEnabled = Path.join(target, "mods-enabled")
      Fs.rmSync(Path.join(modsEnabled, "eap"), { force: true })
      Fs.rmSync(Path.join(modsEnabled, "sql"), { force: true })
      Fs.symlinkSync("../mods-available/sql", Path.join(modsEnabled, "sql"))
      return target
    },
    catch: (error) =>
      error instanceof FreeradiusConfigError
        ? error
        : new FreeradiusConfigError({ reason: error instanceof Error ? error.message : String(error) })
  })
