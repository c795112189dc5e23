/**
 * A MikroTik RouterOS API test server: speaks the real wire protocol (length-prefixed win1252 words,
 * sentences ended by an empty word, `.tag` echoed on every reply, `!re` / `!done` / `!trap` / `!fatal`)
 * and keeps `/ppp/secret`, `/queue/simple`, `/ip/dhcp-server/lease` and `/ip/firewall/address-list`
 * (+ the IPv6 list) in memory, with RouterOS-like constraint errors and value normalisation.
 *
 * It is scriptable for fault tests (drop the connection, hang, delay, inject a `!trap`, reject logins),
 * logs every sentence it receives, and exposes its tables so a test can assert what the router holds.
 *
 * ```ts
 * const server = yield* RouterOsTestServer.make()          // scoped: stopped with the scope
 * const server = await RouterOsTestServer.start()           // plain: await server.stop()
 * it.layer(RouterOsTestServer.layer())("...", (it) => { ... yield* RouterOsTestServer.RouterOsTestServer })
 * ```
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as net from "node:net"

// ---------------------------------------------------------------------------------------------
// Wire codec
// ---------------------------------------------------------------------------------------------

/** Encodes a word length: 1 byte below 0x80, then 2/3/4 bytes with 0x80/0xC0/0xE0 marks, else 0xF0 + 4. */
export const encodeLength = (length: number): Buffer => {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`word length out of range: ${length}`)
  }
  if (length < 0x80) return Buffer.from([length])
  if (length < 0x4000) return Buffer.from([(length >>> 8) | 0x80, length & 0xff])
  if (length < 0x200000) return Buffer.from([(length >>> 16) | 0xc0, (length >>> 8) & 0xff, length & 0xff])
  if (length < 0x10000000) {
    return Buffer.from([(length >>> 24) | 0xe0, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff])
  }
  return Buffer.from([0xf0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff])
}

/**
 * Decodes a word length at `offset`: the length and how many bytes encoded it, or `undefined`
 * when the buffer ends inside the length prefix. Throws on a reserved control byte (0xF8..0xFF).
 */
export const decodeLength = (
  buffer: Uint8Array,
  offset = 0
): { readonly length: number; readonly bytes: number } | undefined => {
  if (offset >= buffer.length) return undefined
  const b = buffer[offset]!
  const need = b < 0x80 ? 1 : b < 0xc0 ? 2 : b < 0xe0 ? 3 : b < 0xf0 ? 4 : b === 0xf0 ? 5 : -1
  if (need < 0) throw new RangeError(`reserved control byte 0x${b.toString(16)}`)
  if (offset + need > buffer.length) return undefined
  if (need === 5) {
    const length = buffer[offset + 1]! * 0x1000000 + ((buffer[offset + 2]! << 16) | (buffer[offset + 3]! << 8) | buffer[offset + 4]!)
    return { length, bytes: 5 }
  }
  const masks = [0x7f, 0x3f, 0x1f, 0x0f]
  let length = b & masks[need - 1]!
  for (let i = 1; i < need; i++) length = length * 256 + buffer[offset + i]!
  return { length, bytes: need }
}

// Windows-1252 differs from Latin-1 only in 0x80..0x9F.
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ"
const CP1252_REVERSE = new Map<number, number>([...CP1252_HIGH].map((c, i) => [c.codePointAt(0)!, 0x80 + i]))

/** Encodes a string as Windows-1252 (unmappable characters become `?`, as iconv does). */
export const encodeWin1252 = (text: string): Buffer => {
  const out: Array<number> = []
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    const mapped = CP1252_REVERSE.get(cp)
    if (mapped !== undefined) out.push(mapped)
    else if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) out.push(cp)
    else out.push(0x3f)
  }
  return Buffer.from(out)
}

/** Decodes Windows-1252 bytes. */
export const decodeWin1252 = (bytes: Uint8Array): string => {
  let s = ""
  for (const b of bytes) s += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b)
  return s
}

/** One word: its length prefix and its win1252 bytes. */
export const encodeWord = (word: string): Buffer => {
  const bytes = encodeWin1252(word)
  return Buffer.concat([encodeLength(bytes.length), bytes])
}

/** A sentence: its words, then the empty word. */
export const encodeSentence = (words: ReadonlyArray<string>): Buffer =>
  Buffer.concat([...words.map(encodeWord), Buffer.from([0])])

/** Accumulates bytes from a stream and yields whole sentences. */
export class SentenceReader {
  private buffer: Buffer = Buffer.alloc(0)
  private words: Array<string> = []

  push(chunk: Uint8Array): Array<Array<string>> {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk])
    const sentences: Array<Array<string>> = []
    let offset = 0
    for (;;) {
      const header = decodeLength(this.buffer, offset)
      if (header === undefined || offset + header.bytes + header.length > this.buffer.length) break
      const start = offset + header.bytes
      offset = start + header.length
      if (header.length === 0) {
        sentences.push(this.words)
        this.words = []
      } else {
        this.words.push(decodeWin1252(this.buffer.subarray(start, offset)))
      }
    }
    this.buffer = this.buffer.subarray(offset)
    return sentences
  }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/** A row as RouterOS prints it: every value a string, `.id` like `*1A`. */
export type Row = Record<string, string>

const bool = (v: string) => (v === "yes" || v === "true" ? "true" : v === "no" || v === "false" ? "false" : v)

const rateUnits: Record<string, number> = { "": 1, k: 1_000, K: 1_000, M: 1_000_000, G: 1_000_000_000 }
/** RouterOS prints rates in bit/s: `10k/20M` → `10000/20000000`. */
const normalizeRatePair = (v: string) =>
  v.split("/").map((part) => {
    const m = /^(\d+(?:\.\d+)?)([kKMG]?)$/.exec(part.trim())
    return m ? String(Math.round(Number(m[1]) * rateUnits[m[2]!]!)) : part
  }).join("/")
/** RouterOS prints times like `8s`: accept `8`, `8s`, `1m`. */
const normalizeTimePair = (v: string) =>
  v.split("/").map((part) => {
    const m = /^(\d+)(s|m|h)?$/.exec(part.trim())
    if (!m) return part
    const seconds = Number(m[1]) * (m[2] === "m" ? 60 : m[2] === "h" ? 3600 : 1)
    return `${seconds}s`
  }).join("/")

interface TableSpec {
  readonly defaults: Row
  readonly normalize: Record<string, (v: string) => string>
  /** A constraint: a `!trap` message when `row` may not coexist with `other`. */
  readonly conflict?: (row: Row, other: Row) => string | undefined
  readonly autoName?: string
}

const sameName = (message: string) => (row: Row, other: Row) =>
  row.name !== undefined && row.name === other.name ? message : undefined

const addressListConflict = (row: Row, other: Row) =>
  row.list === other.list && row.address === other.address ? "failure: already have such entry" : undefined

const TABLES: Record<string, TableSpec> = {
  "/ppp/secret": {
    defaults: { service: "any", profile: "default", disabled: "false" },
    normalize: { disabled: bool },
    conflict: sameName("failure: secret with the same name already exists")
  },
  "/queue/simple": {
    defaults: {
      "max-limit": "0/0",
      "limit-at": "0/0",
      "burst-limit": "0/0",
      "burst-threshold": "0/0",
      "burst-time": "0s/0s",
      priority: "8/8",
      queue: "default-small/default-small",
      parent: "none",
      disabled: "false",
      dynamic: "false"
    },
    normalize: {
      "max-limit": normalizeRatePair,
      "limit-at": normalizeRatePair,
      "burst-limit": normalizeRatePair,
      "burst-threshold": normalizeRatePair,
      "burst-time": normalizeTimePair,
      target: (v) => v.split(",").map((t) => (t.includes("/") ? t : `${t}/${t.includes(":") ? 128 : 32}`)).join(","),
      disabled: bool
    },
    conflict: sameName("failure: queue with such name already exists"),
    autoName: "queue"
  },
  "/ip/dhcp-server/lease": {
    defaults: { server: "all", disabled: "false", dynamic: "false", status: "waiting" },
    normalize: { "mac-address": (v) => v.toUpperCase(), disabled: bool }
  },
  "/ip/firewall/address-list": {
    defaults: { disabled: "false", dynamic: "false" },
    normalize: { address: (v) => v.replace(/\/32$/, ""), disabled: bool },
    conflict: addressListConflict
  },
  "/ipv6/firewall/address-list": {
    defaults: { disabled: "false", dynamic: "false" },
    normalize: { disabled: bool },
    conflict: addressListConflict
  }
}

/** Every table path the server knows. */
export const TABLE_PATHS: ReadonlyArray<string> = Object.keys(TABLES)

class RouterTrapReply {
  constructor(readonly message: string, readonly category?: number) {}
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/** What the server does with a sentence a fault rule matches. */
export type FaultAction =
  | { readonly _tag: "Drop"; readonly when: "before" | "after" }
  | { readonly _tag: "Hang" }
  | { readonly _tag: "Delay"; readonly millis: number }
  | { readonly _tag: "Trap"; readonly message: string; readonly category?: number | undefined }

interface FaultRule {
  readonly command: string | undefined
  readonly action: FaultAction
  skip: number
  remaining: number
}

/** A sentence the server received. */
export interface ReceivedCommand {
  readonly connection: number
  /** The command word, e.g. `/queue/simple/set`. */
  readonly command: string
  /** `=key=value` attributes (without `.tag`). */
  readonly attributes: Readonly<Record<string, string>>
  /** `?` query words as sent. */
  readonly queries: ReadonlyArray<string>
}

/** Options of {@link RouterOsTestServer.start}. */
export interface RouterOsTestServerOptions {
  /** Accepted logins; default `{ admin: "secret" }`. */
  readonly users?: Readonly<Record<string, string>>
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0 (an ephemeral port). */
  readonly port?: number
}

const matches = (pattern: string | undefined, command: string) =>
  pattern === undefined || command === pattern || command.startsWith(pattern.endsWith("/") ? pattern : pattern + "/")

const never = new Promise<void>(() => {})

/** The server. Start it with {@link RouterOsTestServer.start} or {@link make}. */
export class RouterOsTestServer {
  /** Accepted logins; tests may add or change users. */
  readonly users: Map<string, string>
  private readonly tables = new Map<string, Array<Row>>(TABLE_PATHS.map((p) => [p, []]))
  private nextId = 1
  private readonly rules: Array<FaultRule> = []
  private readonly log: Array<ReceivedCommand> = []
  private readonly sockets = new Set<net.Socket>()
  private connectionSeq = 0
  private loginsRejected = false
  /** Connections accepted since start. */
  acceptedConnections = 0

  private constructor(private readonly server: net.Server, readonly host: string, readonly port: number, users: Record<string, string>) {
    this.users = new Map(Object.entries(users))
  }

  /** Starts a server on `127.0.0.1`, port 0 unless told otherwise. */
  static start(options: RouterOsTestServerOptions = {}): Promise<RouterOsTestServer> {
    const host = options.host ?? "127.0.0.1"
    return new Promise((resolve, reject) => {
      const server = net.createServer()
      server.once("error", reject)
      server.listen(options.port ?? 0, host, () => {
        const address = server.address() as net.AddressInfo
        const instance = new RouterOsTestServer(server, host, address.port, options.users ?? { admin: "secret" })
        server.on("connection", (socket) => instance.accept(socket))
        resolve(instance)
      })
    })
  }

  /** Closes every connection and the listener. */
  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  // -- tables -------------------------------------------------------------------------------

  /** A copy of a table's rows, in id order. */
  table(path: string): ReadonlyArray<Row> {
    return (this.tables.get(path) ?? []).map((row) => ({ ...row }))
  }

  /** Adds a row out-of-band (as an operator would in Winbox): no constraint check. Returns its `.id`. */
  insert(path: string, fields: Row): string {
    const spec = this.spec(path)
    const row = this.build(spec, fields)
    this.rows(path).push(row)
    return row[".id"]!
  }

  /** Changes a row out-of-band. */
  update(path: string, id: string, fields: Row): void {
    const row = this.rows(path).find((r) => r[".id"] === id)
    if (!row) throw new Error(`no row ${id} in ${path}`)
    Object.assign(row, this.normalized(this.spec(path), fields))
  }

  /** Empties every table, the command log and the fault rules. */
  reset(): void {
    for (const rows of this.tables.values()) rows.length = 0
    this.log.length = 0
    this.rules.length = 0
    this.loginsRejected = false
  }

  // -- command log ----------------------------------------------------------------------------

  /** Every sentence received, oldest first. */
  get commands(): ReadonlyArray<ReceivedCommand> {
    return this.log
  }

  /** How many sentences matched `command` (exact, or a path prefix like `/queue/simple`); all when omitted. */
  count(command?: string): number {
    return this.log.filter((c) => matches(command, c.command)).length
  }

  /** Forgets the command log. */
  clearLog(): void {
    this.log.length = 0
  }

  /** Connections open right now. */
  get activeConnections(): number {
    return this.sockets.size
  }

  // -- faults ---------------------------------------------------------------------------------

  /** Adds a fault rule: the next `times` sentences matching `command` (after `skip` matches) get `action`. */
  fault(action: FaultAction, options: { readonly command?: string; readonly times?: number; readonly skip?: number } = {}): this {
    this.rules.push({ command: options.command, action, skip: options.skip ?? 0, remaining: options.times ?? 1 })
    return this
  }

  /** Lets `n` sentences through, then drops the connection that receives the next one (without replying). */
  dropAfterSentences(n: number): this {
    return this.fault({ _tag: "Drop", when: "before" }, { skip: n })
  }

  /**
   * Drops the connection on the next sentence matching `command`: `before` executing it, or `after`
   * executing it but before replying (the router applied the change; the client never hears so).
   */
  dropOn(command: string, options: { readonly when?: "before" | "after"; readonly times?: number } = {}): this {
    return this.fault({ _tag: "Drop", when: options.when ?? "before" }, { command, times: options.times ?? 1 })
  }

  /** Never answers matching sentences; the connection stays open and answers nothing after them. */
  hang(command?: string, times = Number.POSITIVE_INFINITY): this {
    return this.fault({ _tag: "Hang" }, { ...(command !== undefined ? { command } : {}), times })
  }

  /** Delays matching sentences by `millis` before executing them. */
  delay(millis: number, command?: string, times = Number.POSITIVE_INFINITY): this {
    return this.fault({ _tag: "Delay", millis }, { ...(command !== undefined ? { command } : {}), times })
  }

  /** Answers matching sentences with `!trap =message=…` + `!done` instead of executing them. */
  trapOn(command: string, message: string, options: { readonly category?: number; readonly times?: number } = {}): this {
    return this.fault({ _tag: "Trap", message, category: options.category }, { command, times: options.times ?? 1 })
  }

  /** Rejects every login (as a wrong password would) while set. */
  rejectLogins(reject = true): this {
    this.loginsRejected = reject
    return this
  }

  /** Removes every fault rule and accepts logins again. */
  clearFaults(): void {
    this.rules.length = 0
    this.loginsRejected = false
  }

  /** Drops every open connection now. */
  dropAllConnections(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  // -- protocol -------------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    const connection = ++this.connectionSeq
    this.acceptedConnections++
    this.sockets.add(socket)
    const reader = new SentenceReader()
    let loggedIn = false
    // Sentences are handled one after another per connection, as a slow router would.
    let chain: Promise<void> = Promise.resolve()
    socket.on("error", () => {})
    socket.on("close", () => this.sockets.delete(socket))
    socket.on("data", (chunk) => {
      let sentences: Array<Array<string>>
      try {
        sentences = reader.push(chunk)
      } catch {
        socket.destroy()
        return
      }
      for (const words of sentences) {
        chain = chain.then(() => this.handle(socket, connection, words, () => loggedIn, () => (loggedIn = true)))
      }
    })
  }

  private async handle(
    socket: net.Socket,
    connection: number,
    words: ReadonlyArray<string>,
    isLoggedIn: () => boolean,
    setLoggedIn: () => void
  ): Promise<void> {
    if (socket.destroyed || words.length === 0) return
    const [command, ...rest] = words as [string, ...Array<string>]
    let tag: string | undefined
    const attributes: Record<string, string> = {}
    const queries: Array<string> = []
    for (const word of rest) {
      if (word.startsWith(".tag=")) tag = word.slice(5)
      else if (word.startsWith("=")) {
        const eq = word.indexOf("=", 1)
        if (eq < 0) attributes[word.slice(1)] = ""
        else attributes[word.slice(1, eq)] = word.slice(eq + 1)
      } else if (word.startsWith("?")) queries.push(word)
    }
    this.log.push({ connection, command, attributes, queries })

    const tagged = (reply: Array<string>) => (tag === undefined ? reply : [...reply, `.tag=${tag}`])
    const send = (sentences: Array<Array<string>>) => {
      // One write per reply: node-routeros' receiver mishandles a sentence's end arriving in a later chunk.
      if (!socket.destroyed) socket.write(Buffer.concat(sentences.map((s) => encodeSentence(tagged(s)))))
    }
    const trap = (t: RouterTrapReply) =>
      send([["!trap", ...(t.category !== undefined ? [`=category=${t.category}`] : []), `=message=${t.message}`], ["!done"]])

    const rule = this.takeRule(command)
    if (rule?._tag === "Drop" && rule.when === "before") return void socket.destroy()
    if (rule?._tag === "Hang") return never
    if (rule?._tag === "Delay") await new Promise((r) => setTimeout(r, rule.millis))
    if (rule?._tag === "Trap") return trap(new RouterTrapReply(rule.message, rule.category))

    if (command === "/login") {
      const password = this.users.get(attributes.name ?? "")
      if (this.loginsRejected || password === undefined || password !== attributes.password) {
        return trap(new RouterTrapReply("invalid user name or password (6)"))
      }
      setLoggedIn()
      return send([["!done"]])
    }
    if (command === "/quit") {
      if (!socket.destroyed) socket.write(encodeSentence(["!fatal", "session terminated on request"]))
      return void socket.end()
    }
    if (!isLoggedIn()) {
      // RouterOS ends an unauthenticated session with an untagged `!fatal`.
      if (!socket.destroyed) socket.write(encodeSentence(["!fatal", "not logged in"]))
      return void socket.end()
    }
    let replies: Array<Array<string>>
    try {
      replies = this.execute(command, attributes, queries)
    } catch (e) {
      if (e instanceof RouterTrapReply) return trap(e)
      throw e
    }
    if (rule?._tag === "Drop" && rule.when === "after") return void socket.destroy()
    send(replies)
  }

  private takeRule(command: string): FaultAction | undefined {
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !matches(rule.command, command)) continue
      if (rule.skip > 0) {
        rule.skip--
        continue
      }
      rule.remaining--
      return rule.action
    }
    return undefined
  }

  private execute(command: string, attributes: Record<string, string>, queries: ReadonlyArray<string>): Array<Array<string>> {
    if (command === "/system/identity/print") return [["!re", "=name=RouterOsTestServer"], ["!done"]]
    const slash = command.lastIndexOf("/")
    const path = command.slice(0, slash)
    const verb = command.slice(slash + 1)
    const spec = TABLES[path]
    if (!spec) throw new RouterTrapReply("no such command prefix", 0)
    const rows = this.rows(path)
    const { ".proplist": proplist, ".id": idAttr, ...fields } = attributes
    switch (verb) {
      case "print": {
        const keys = proplist?.split(",").filter((k) => k !== "")
        const matches = compileQuery(queries)
        return [
          ...rows.filter(matches).map((row) => [
            "!re",
            ...Object.entries(row)
              .filter(([k]) => keys === undefined || keys.includes(k))
              .map(([k, v]) => `=${k}=${v}`)
          ]),
          ["!done"]
        ]
      }
      case "add": {
        const row = this.build(spec, fields)
        this.checkConflicts(spec, rows, row)
        rows.push(row)
        return [["!done", `=ret=${row[".id"]}`]]
      }
      case "set": {
        const targets = this.byIds(rows, idAttr)
        for (const row of targets) {
          const next = { ...row, ...this.normalized(spec, fields) }
          this.checkConflicts(spec, rows.filter((r) => r !== row), next)
          Object.assign(row, next)
        }
        return [["!done"]]
      }
      case "remove": {
        const targets = new Set(this.byIds(rows, idAttr))
        const kept = rows.filter((r) => !targets.has(r))
        rows.length = 0
        rows.push(...kept)
        return [["!done"]]
      }
      default:
        throw new RouterTrapReply("no such command", 0)
    }
  }

  private byIds(rows: ReadonlyArray<Row>, ids: string | undefined): Array<Row> {
    if (ids === undefined || ids === "") throw new RouterTrapReply("no such item", 1)
    return ids.split(",").map((id) => {
      const row = rows.find((r) => r[".id"] === id)
      if (!row) throw new RouterTrapReply("no such item", 1)
      return row
    })
  }

  private checkConflicts(spec: TableSpec, rows: ReadonlyArray<Row>, row: Row): void {
    if (!spec.conflict) return
    for (const other of rows) {
      const message = spec.conflict(row, other)
      if (message) throw new RouterTrapReply(message)
    }
  }

  private spec(path: string): TableSpec {
    const spec = TABLES[path]
    if (!spec) throw new Error(`unknown table ${path}`)
    return spec
  }

  private rows(path: string): Array<Row> {
    return this.tables.get(path)!
  }

  private normalized(spec: TableSpec, fields: Row): Row {
    const out: Row = {}
    for (const [k, v] of Object.entries(fields)) out[k] = spec.normalize[k]?.(v) ?? v
    return out
  }

  private build(spec: TableSpec, fields: Row): Row {
    const id = `*${(this.nextId++).toString(16).toUpperCase()}`
    const row: Row = { ".id": id, ...spec.defaults, ...this.normalized(spec, fields) }
    if (spec.autoName && row.name === undefined) row.name = `${spec.autoName}${this.nextId - 1}`
    return row
  }
}

/**
 * RouterOS query words, evaluated on a stack: `?name=x` (equal), `?name` (has), `?-name` (lacks),
 * `?<name=x` / `?>name=x` (numeric or string order), `?#|` `?#&` `?#!` `?#.` (or, and, not, dup);
 * whatever remains on the stack is ANDed.
 */
export const evaluateQuery = (queries: ReadonlyArray<string>, row: Row): boolean => compileQuery(queries)(row)

const compareValues = (a: string, b: string) => {
  const na = Number(a), nb = Number(b)
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0
}

type Step = (row: Row, stack: Array<boolean>) => void
const pop = (stack: Array<boolean>) => stack.pop() ?? true

/** Compiles query words once into a row predicate (a print scans every row). */
export const compileQuery = (queries: ReadonlyArray<string>): (row: Row) => boolean => {
  if (queries.length === 0) return () => true
  if (queries.length === 1 && /^\?[^#<>\-][^=]*=/.test(queries[0]!)) {
    const body = queries[0]!.slice(1), eq = body.indexOf("=")
    const key = body.slice(0, eq), value = body.slice(eq + 1)
    return (row) => row[key] === value
  }
  const steps: Array<Step> = queries.map((q): Step => {
    const body = q.slice(1)
    if (body.startsWith("#")) {
      const ops = [...body.slice(1)]
      return (_, stack) => {
        for (const op of ops) {
          if (op === "|") stack.push(pop(stack) || pop(stack))
          else if (op === "&") stack.push(pop(stack) && pop(stack))
          else if (op === "!") stack.push(!pop(stack))
          else if (op === ".") stack.push(stack[stack.length - 1] ?? true)
        }
      }
    }
    if (body.startsWith("-")) {
      const key = body.slice(1)
      return (row, stack) => void stack.push(!(key in row))
    }
    if (body.startsWith("<") || body.startsWith(">")) {
      const eq = body.indexOf("="), key = body.slice(1, eq), value = body.slice(eq + 1), less = body[0] === "<"
      return (row, stack) => {
        const have = row[key]
        stack.push(have !== undefined && (less ? compareValues(have, value) < 0 : compareValues(have, value) > 0))
      }
    }
    const eq = body.indexOf("=")
    if (eq < 0) return (row, stack) => void stack.push(body in row)
    const key = body.slice(0, eq), value = body.slice(eq + 1)
    return (row, stack) => void stack.push(row[key] === value)
  })
  return (row) => {
    const stack: Array<boolean> = []
    for (const step of steps) step(row, stack)
    return stack.every(Boolean)
  }
}

// ---------------------------------------------------------------------------------------------
// Effect API
// ---------------------------------------------------------------------------------------------

/** Starts a server for the scope's lifetime. */
export const make = (options: RouterOsTestServerOptions = {}): Effect.Effect<RouterOsTestServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => RouterOsTestServer.start(options)),
    (server) => Effect.promise(() => server.stop())
  )

/** The running server as a service, for `it.layer`. */
export class RouterOsTestServerTag extends Context.Tag("@isp-framework/adapters/test/RouterOsTestServer")<
  RouterOsTestServerTag,
  RouterOsTestServer
>() {}

/** A layer holding a running server, stopped when the layer is released. */
export const layer = (options: RouterOsTestServerOptions = {}): Layer.Layer<RouterOsTestServerTag> =>
  Layer.scoped(RouterOsTestServerTag, make(options))
