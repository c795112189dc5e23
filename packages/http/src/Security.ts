/**
 * Bearer authentication for the v1 API.
 *
 * - `Authentication` is the HttpApi security middleware: it reads `Authorization: Bearer …`, asks the
 *   {@link Authenticator} who that is, and provides {@link CurrentPrincipal} to the handlers.
 * - The default `Authenticator` ({@link layerTokens}) looks tokens up in the `TokenRepository`, which
 *   holds only SHA-256 hashes, and compares hashes in constant time. Tokens look like
 *   `isp_<token id>_<secret>`; the id is only a lookup key, the secret is what is verified.
 * - {@link layerJwt} verifies HS256 JWTs from the ISP's own identity provider instead
 *   ({@link layerTokensOrJwt} accepts both).
 *
 * Tokens are `Redacted` from the moment they are read, so they never reach a log line.
 *
 * @since 0.1.0
 */
import { HttpApiMiddleware, HttpApiSchema, HttpApiSecurity } from "@effect/platform"
import { Conflict, CustomerId, Tracing } from "@isp-framework/core"
import { Context, DateTime, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Crypto from "node:crypto"
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import { withMessage } from "./Errors.js"
import { ApiToken, type Principal, type TokenId, TokenRepository, type TokenScope } from "./internal/core.js"

export type { Principal }

/** The caller of the current request, provided by {@link Authentication}. */
export class CurrentPrincipal extends Context.Tag("@isp-framework/http/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

/** No token, or a token that is unknown, revoked, expired or malformed. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {
  override get message() {
    return `Unauthorized: ${this.reason}`
  }
}

/** A valid token that may not do this (a customer token on an admin route). */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {
  override get message() {
    return `Forbidden: ${this.reason}`
  }
}

/** The bearer-token middleware every v1 group uses. */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("@isp-framework/http/Authentication", {
  failure: withMessage(Unauthorized),
  provides: CurrentPrincipal,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/** Turns a presented bearer token into a principal. */
export interface Authenticator {
  readonly authenticate: (token: Redacted.Redacted<string>) => Effect.Effect<Principal, Unauthorized>
  /** Forget anything cached about a token (called after it is revoked through this API). */
  readonly invalidate?: ((id: TokenId) => Effect.Effect<void>) | undefined
}
export const Authenticator = Context.GenericTag<Authenticator>("@isp-framework/http/Authenticator")

/** The `Authentication` middleware implemented with the `Authenticator` in context. */
export const layerAuthentication: Layer.Layer<Authentication, never, Authenticator> = Layer.effect(
  Authentication,
  Effect.map(Authenticator, (authenticator) =>
    Authentication.of({
      // A span only while tracing is on (HttpLayer without an exporter turns it off).
      bearer: (token) => Tracing.spanWhenTraced("Authentication.bearer")(authenticator.authenticate(token))
    }))
)

/** Admin only: a customer principal gets `Forbidden`. */
export const requireAdmin: Effect.Effect<Extract<Principal, { _tag: "Admin" }>, Forbidden, CurrentPrincipal> = Effect
  .flatMap(CurrentPrincipal, (p) =>
    p._tag === "Admin"
      ? Effect.succeed(p)
      : Effect.fail(new Forbidden({ reason: "this operation needs an admin (scope \"api\") token" })))

/** The customer a principal is restricted to, if any (`undefined` for admins). */
export const scopeOf = (p: Principal): { readonly customerId: CustomerId } | undefined =>
  p._tag === "Customer" ? { customerId: p.customerId } : undefined

// --- opaque tokens --------------------------------------------------------------------------------

// Node's one-shot `crypto.hash` (20.12+) where it exists: a quarter cheaper than a Hash object, and
// every authenticated request hashes its token once.
const sha256: (s: string) => Buffer = typeof Crypto.hash === "function"
  ? (s) => Crypto.hash("sha256", s, "buffer")
  : (s) => createHash("sha256").update(s, "utf8").digest()

/** Constant-time equality of two strings (compares their SHA-256 digests, so lengths may differ). */
export const constantTimeEquals = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b))

const TOKEN = /^isp_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/

const uuidOf = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`

/** A token just issued: the secret string (shown once) and the stored record. */
export interface IssuedToken {
  readonly token: Redacted.Redacted<string>
  readonly record: ApiToken
}

/** Options of {@link issueToken}. */
export interface IssueOptions {
  readonly scope: TokenScope
  readonly customerId?: CustomerId | undefined
  readonly name?: string | undefined
  readonly expiresAt?: DateTime.Utc | undefined
}

/**
 * Creates a token and stores its hash. The returned secret is the only copy: show it once.
 *
 * @since 0.1.0
 */
export const issueToken = Effect.fn("Tokens.issue")(function*(options: IssueOptions) {
  const repo = yield* TokenRepository
  const id = randomUUID()
  const secret = `isp_${id.replace(/-/g, "")}_${randomBytes(32).toString("base64url")}`
  const record = new ApiToken({
    id: id as TokenId,
    scope: options.scope,
    customerId: options.scope === "customer" ? (options.customerId ?? null) : null,
    name: options.name ?? (options.scope === "api" ? "admin" : `customer ${options.customerId}`),
    secretHash: sha256(secret).toString("hex"),
    createdAt: yield* DateTime.now,
    expiresAt: options.expiresAt ?? null,
    revokedAt: null
  })
  if (record.scope === "customer" && record.customerId === null) {
    return yield* Effect.dieMessage("a customer token needs a customerId")
  }
  yield* Effect.catchTag(repo.insert(record), "Conflict", (e: Conflict) => Effect.die(e))
  return { token: Redacted.make(secret), record } satisfies IssuedToken
})

/** Options of {@link layerTokens}. */
export interface TokenOptions {
  /** An extra admin token compared in memory (e.g. `ISP_ADMIN_TOKEN`); any string of 16+ characters. */
  readonly bootstrapAdminToken?: Redacted.Redacted<string> | undefined
  /**
   * How long a token record looked up in the repository is reused, in milliseconds (default 2000;
   * 0 = no cache). A revocation through this API takes effect at once; one made elsewhere (another
   * instance, SQL) within this long. Expiry is always checked against the clock.
   */
  readonly cacheMillis?: number | undefined
}

const CACHE_MAX = 10_000

/** The opaque-token verifier: `authenticate` plus `invalidate` for its small record cache. */
const makeOpaque = (repo: TokenRepository, options: TokenOptions) => {
  const ttl = options.cacheMillis ?? 2_000
  // token id -> (record or none, until): a hot token costs no database round trip per request.
  const cache = new Map<string, { readonly found: Option.Option<ApiToken>; readonly until: number }>()
  const lookup = (id: TokenId): Effect.Effect<Option.Option<ApiToken>> => {
    if (ttl <= 0) return repo.findById(id)
    const hit = cache.get(id)
    const now = Date.now()
    if (hit !== undefined && hit.until > now) return Effect.succeed(hit.found)
    return Effect.tap(repo.findById(id), (found) =>
      Effect.sync(() => {
        if (cache.size >= CACHE_MAX) cache.clear()
        cache.set(id, { found, until: now + ttl })
      }))
  }
  const invalidate = (id: TokenId) => Effect.sync(() => void cache.delete(id))
  return { authenticate: verifyOpaque(lookup, options), invalidate }
}

const unknownToken = () => Effect.fail(new Unauthorized({ reason: "unknown token" }))

const verifyOpaque = (lookup: (id: TokenId) => Effect.Effect<Option.Option<ApiToken>>, options: TokenOptions) => {
  // Hashed once: each request then costs one SHA-256 for the bootstrap comparison, not two.
  const bootstrapDigest = options.bootstrapAdminToken === undefined ? undefined : sha256(Redacted.value(options.bootstrapAdminToken))
  const bootstrap = Effect.succeed<Principal>({ _tag: "Admin", subject: "bootstrap" })
  const check = (digest: Buffer, found: Option.Option<ApiToken>): Effect.Effect<Principal, Unauthorized> => {
    // Same work whether or not the id exists, so timing does not tell which ids are real.
    const expected = Option.match(found, { onNone: () => Buffer.alloc(32), onSome: (t) => Buffer.from(t.secretHash, "hex") })
    const matches = expected.length === 32 && timingSafeEqual(digest, expected)
    if (Option.isNone(found) || !matches) return unknownToken()
    const token = found.value
    if (token.revokedAt !== null) return Effect.fail(new Unauthorized({ reason: "token revoked" }))
    return Effect.flatMap(DateTime.now, (now) => {
      if (token.expiresAt !== null && !DateTime.lessThan(now, token.expiresAt)) {
        return Effect.fail(new Unauthorized({ reason: "token expired" }))
      }
      return Effect.succeed<Principal>(
        token.scope === "api"
          ? { _tag: "Admin", subject: `token:${token.id}` }
          : { _tag: "Customer", customerId: token.customerId!, subject: `token:${token.id}` }
      )
    })
  }
  // Plain functions rather than a generator: this runs on every request.
  return (presented: Redacted.Redacted<string>): Effect.Effect<Principal, Unauthorized> =>
    Effect.suspend(() => {
      const raw = Redacted.value(presented)
      const digest = sha256(raw)
      if (bootstrapDigest !== undefined && timingSafeEqual(digest, bootstrapDigest)) return bootstrap
      const m = TOKEN.exec(raw)
      if (m === null) return unknownToken()
      return Effect.flatMap(lookup(uuidOf(m[1]!) as TokenId), (found) => check(digest, found))
    })
}

/**
 * The default authenticator: opaque tokens checked against `TokenRepository` hashes.
 *
 * @since 0.1.0
 */
export const layerTokens = (options: TokenOptions = {}): Layer.Layer<Authenticator, never, TokenRepository> =>
  Layer.effect(Authenticator, Effect.map(TokenRepository, (repo) => makeOpaque(repo, options)))

// --- JWT (HS256) ----------------------------------------------------------------------------------

/** Options of {@link layerJwt}. */
export interface JwtOptions {
  /** The HMAC secret shared with the identity provider. */
  readonly secret: Redacted.Redacted<string>
  /** When set, the `iss` claim must equal it. */
  readonly issuer?: string | undefined
  /** When set, the `aud` claim must equal (or contain) it. */
  readonly audience?: string | undefined
  /** Claim naming the customer of a customer token; default `customer_id`. */
  readonly customerClaim?: string | undefined
  /** Allowed clock skew in seconds for `exp` / `nbf`; default 30. */
  readonly leewaySeconds?: number | undefined
}

const b64json = (part: string): unknown => {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"))
  } catch {
    return undefined
  }
}

/**
 * Verifies an HS256 JWT and maps its claims: `scope` containing `api` → admin; otherwise the
 * customer claim → that customer. Anything else is `Unauthorized`.
 *
 * @since 0.1.0
 */
export const verifyJwt = (options: JwtOptions) => (presented: Redacted.Redacted<string>): Effect.Effect<Principal, Unauthorized> =>
  Effect.suspend(() => {
    const fail = (reason: string) => Effect.fail(new Unauthorized({ reason }))
    const parts = Redacted.value(presented).split(".")
    if (parts.length !== 3) return fail("malformed token")
    const [h, p, s] = parts as [string, string, string]
    const header = b64json(h) as { alg?: unknown } | undefined
    if (header === undefined || header === null || header.alg !== "HS256") return fail("unsupported JWT algorithm")
    const expected = createHmac("sha256", Redacted.value(options.secret)).update(`${h}.${p}`).digest()
    const given = Buffer.from(s, "base64url")
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return fail("bad JWT signature")
    const claims = b64json(p) as Record<string, unknown> | undefined
    if (typeof claims !== "object" || claims === null) return fail("malformed JWT claims")
    const now = Date.now() / 1000
    const leeway = options.leewaySeconds ?? 30
    if (typeof claims["exp"] === "number" && now > claims["exp"] + leeway) return fail("token expired")
    if (typeof claims["nbf"] === "number" && now + leeway < claims["nbf"]) return fail("token not yet valid")
    if (options.issuer !== undefined && claims["iss"] !== options.issuer) return fail("wrong issuer")
    if (options.audience !== undefined) {
      const aud = claims["aud"]
      const ok = Array.isArray(aud) ? aud.includes(options.audience) : aud === options.audience
      if (!ok) return fail("wrong audience")
    }
    const subject = typeof claims["sub"] === "string" ? `jwt:${claims["sub"]}` : "jwt"
    const scope = claims["scope"]
    const scopes = typeof scope === "string" ? scope.split(" ") : Array.isArray(scope) ? scope : []
    if (scopes.includes("api")) return Effect.succeed<Principal>({ _tag: "Admin", subject })
    const customer = claims[options.customerClaim ?? "customer_id"]
    const decoded = Schema.decodeUnknownOption(CustomerId)(customer)
    if (Option.isSome(decoded)) return Effect.succeed<Principal>({ _tag: "Customer", customerId: decoded.value, subject })
    return fail("the JWT grants neither scope \"api\" nor a customer")
  })

/**
 * HS256 JWTs only.
 *
 * @since 0.1.0
 */
export const layerJwt = (options: JwtOptions): Layer.Layer<Authenticator> =>
  Layer.succeed(Authenticator, { authenticate: verifyJwt(options) })

/**
 * Both: tokens that look like JWTs (three dot-separated parts) go to the JWT verifier, the rest to
 * the token repository.
 *
 * @since 0.1.0
 */
export const layerTokensOrJwt = (
  jwt: JwtOptions,
  options: TokenOptions = {}
): Layer.Layer<Authenticator, never, TokenRepository> =>
  Layer.effect(
    Authenticator,
    Effect.map(TokenRepository, (repo) => {
      const opaque = makeOpaque(repo, options)
      const jwtVerify = verifyJwt(jwt)
      return {
        authenticate: (token) => Redacted.value(token).split(".").length === 3 ? jwtVerify(token) : opaque.authenticate(token),
        invalidate: opaque.invalidate
      }
    })
  )
