/**
 * RADIUS packet encoding and authentication for the RFC 5176 dynamic-authorization exchange
 * (CoA-Request / Disconnect-Request and their ACK / NAK), on top of the `radius` npm package's
 * attribute codec and dictionaries.
 *
 * Why not the package's own `encode` / `verify_response` for the authenticators:
 * - For CoA/Disconnect requests it computes the Message-Authenticator over the packet *after* filling
 *   the Request Authenticator; RFC 5176 §3.5 (and FreeRADIUS) compute it with the Request
 *   Authenticator zeroed, then the Request Authenticator over the packet holding it.
 * - Its `verify_response` rejects a response without Message-Authenticator when the request had one,
 *   while FreeRADIUS 3.2 and many NASes do not send one back.
 * - Its responses are signed as if they were requests.
 * So the authenticators are computed here and the package only encodes and decodes attributes.
 *
 * All functions are synchronous and pure apart from loading the dictionaries once; they throw
 * {@link RadiusCodecError} on malformed input.
 *
 * @since 0.1.0
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { ensureDictionaries, radius } from "./Dictionary.js"

/** A value the `radius` package can encode for a dictionary attribute (`Date` for `date` attributes). */
export type AttributeValue = string | number | Buffer | Date

/** One attribute by dictionary name, e.g. `["User-Name", "alice"]`. */
export type PlainAttribute = readonly [name: string, value: AttributeValue]

/** A Vendor-Specific attribute: vendor id (or dictionary name) and its sub-attributes. */
export type VendorAttribute = readonly [
  name: "Vendor-Specific",
  vendor: number | string,
  attributes: ReadonlyArray<PlainAttribute>
]

/**
 * An attribute as the `radius` package encodes it.
 *
 * @since 0.1.0
 */
export type RadiusAttribute = PlainAttribute | VendorAttribute

/**
 * MikroTik's IANA enterprise number.
 *
 * @since 0.1.0
 */
export const MIKROTIK_VENDOR_ID = 14988

/**
 * A MikroTik vendor attribute, e.g. `mikrotik("Mikrotik-Rate-Limit", "2M/2M")`.
 *
 * @since 0.1.0
 */
export const mikrotik = (name: string, value: AttributeValue): VendorAttribute => [
  "Vendor-Specific",
  MIKROTIK_VENDOR_ID,
  [[name, value]]
]

/**
 * The RFC 5176 request codes this module signs.
 *
 * @since 0.1.0
 */
export type DynamicAuthRequestCode = "CoA-Request" | "Disconnect-Request"

/**
 * The RFC 5176 response codes.
 *
 * @since 0.1.0
 */
export type DynamicAuthResponseCode = "CoA-ACK" | "CoA-NAK" | "Disconnect-ACK" | "Disconnect-NAK"

/**
 * Thrown by the codec functions on malformed input or a failed authenticity check.
 *
 * @since 0.1.0
 */
export class RadiusCodecError extends Error {
  override readonly name = "RadiusCodecError"
}

/**
 * A decoded packet: `attributes` as the `radius` package decodes them (repeated attributes become
 * arrays; vendor attributes of every vendor are merged under `"Vendor-Specific"`), `raw` the
 * undecoded `[type, value]` pairs.
 *
 * @since 0.1.0
 */
export interface DecodedPacket {
  readonly code: string
  readonly identifier: number
  readonly authenticator: Buffer
  readonly attributes: Readonly<Record<string, unknown>>
  readonly raw: ReadonlyArray<readonly [type: number, value: Buffer]>
  readonly hasMessageAuthenticator: boolean
}

const AUTH_START = 4
const AUTH_END = 20
const MESSAGE_AUTHENTICATOR = 80
const ERROR_CAUSE = 101

const md5 = (...parts: ReadonlyArray<Buffer | string>): Buffer => {
  const hash = createHash("md5")
  for (const part of parts) hash.update(part)
  return hash.digest()
}

const hmacMd5 = (secret: string, packet: Buffer): Buffer => createHmac("md5", secret).update(packet).digest()

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b)

/** Offset of the value of the first top-level Message-Authenticator, or -1. */
const messageAuthenticatorOffset = (packet: Buffer): number => {
  const length = packet.readUInt16BE(2)
  let offset = AUTH_END
  while (offset + 2 <= length) {
    const type = packet[offset]!
    const attributeLength = packet[offset + 1]!
    if (attributeLength < 2) throw new RadiusCodecError(`invalid attribute length ${attributeLength}`)
    if (type === MESSAGE_AUTHENTICATOR && attributeLength === 18) return offset + 2
    offset += attributeLength
  }
  return -1
}

/** Encodes attributes with the package (its own authenticator is overwritten by the callers). */
const encodeRaw = (code: string, identifier: number, secret: string, attributes: ReadonlyArray<RadiusAttribute>) => {
  ensureDictionaries()
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) {
    throw new RadiusCodecError(`identifier out of range: ${identifier}`)
  }
  try {
    return radius.encode({
      code,
      identifier,
      secret,
      // The package appends to the array it is given: hand it a copy.
      attributes: attributes.map((attribute) => [...attribute]),
      add_message_authenticator: false
    })
  } catch (cause) {
    throw new RadiusCodecError(`cannot encode ${code}: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
}

const zeroes = Buffer.alloc(16)

/**
 * Encodes and signs a CoA-Request or Disconnect-Request (Request Authenticator as in RFC 2866; with
 * `messageAuthenticator`, a Message-Authenticator computed over the packet with a zero Request
 * Authenticator, RFC 5176 §3.5).
 *
 * @since 0.1.0
 */
export const encodeRequest = (args: {
  readonly code: DynamicAuthRequestCode
  readonly identifier: number
  readonly secret: string
  readonly attributes: ReadonlyArray<RadiusAttribute>
  readonly messageAuthenticator?: boolean | undefined
}): Buffer => {
  const attributes = args.messageAuthenticator === true
    ? [...args.attributes.filter(([name]) => name !== "Message-Authenticator"), ["Message-Authenticator", zeroes] as const]
    : args.attributes
  const packet = encodeRaw(args.code, args.identifier, args.secret, attributes)
  packet.fill(0, AUTH_START, AUTH_END)
  if (args.messageAuthenticator === true) {
    const offset = messageAuthenticatorOffset(packet)
    hmacMd5(args.secret, packet).copy(packet, offset)
  }
  md5(packet, args.secret).copy(packet, AUTH_START)
  return packet
}

/**
 * Encodes and signs a response to `request` (the raw request packet): Response Authenticator over the
 * request's authenticator; a Message-Authenticator when `messageAuthenticator` is set.
 *
 * @since 0.1.0
 */
export const encodeResponse = (args: {
  readonly request: Buffer
  readonly code: DynamicAuthResponseCode
  readonly secret: string
  readonly attributes?: ReadonlyArray<RadiusAttribute> | undefined
  readonly messageAuthenticator?: boolean | undefined
}): Buffer => {
  if (args.request.length < AUTH_END) throw new RadiusCodecError("request too short")
  const base = args.attributes ?? []
  const attributes = args.messageAuthenticator === true ? [...base, ["Message-Authenticator", zeroes] as const] : base
  const packet = encodeRaw(args.code, args.request[1]!, args.secret, attributes)
  args.request.copy(packet, AUTH_START, AUTH_START, AUTH_END)
  if (args.messageAuthenticator === true) {
    const offset = messageAuthenticatorOffset(packet)
    hmacMd5(args.secret, packet).copy(packet, offset)
  }
  md5(packet, args.secret).copy(packet, AUTH_START)
  return packet
}

/** Decodes the attributes without any authenticity check. */
export const decode = (packet: Buffer): DecodedPacket => {
  ensureDictionaries()
  if (packet.length < AUTH_END) throw new RadiusCodecError(`packet too short (${packet.length} bytes)`)
  const length = packet.readUInt16BE(2)
  if (length < AUTH_END || length > packet.length) throw new RadiusCodecError(`bad length field ${length}`)
  let decoded: { code: string; identifier: number; attributes: Record<string, unknown>; raw_attributes: Array<[number, Buffer]> }
  try {
    decoded = radius.decode_without_secret({ packet: packet.subarray(0, length) }) as unknown as typeof decoded
  } catch (cause) {
    throw new RadiusCodecError(`cannot decode: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  return {
    code: decoded.code,
    identifier: decoded.identifier,
    authenticator: Buffer.from(packet.subarray(AUTH_START, AUTH_END)),
    attributes: decoded.attributes,
    raw: decoded.raw_attributes.map(([type, value]) => [type, value] as const),
    hasMessageAuthenticator: decoded.raw_attributes.some(([type]) => type === MESSAGE_AUTHENTICATOR)
  }
}

/** Checks a Message-Authenticator with the authenticator field set to `authenticator`. */
const messageAuthenticatorValid = (packet: Buffer, secret: string, authenticator: Buffer): boolean => {
  const offset = messageAuthenticatorOffset(packet)
  if (offset < 0) return true
  const copy = Buffer.from(packet.subarray(0, packet.readUInt16BE(2)))
  const received = Buffer.from(copy.subarray(offset, offset + 16))
  authenticator.copy(copy, AUTH_START)
  copy.fill(0, offset, offset + 16)
  return sameBytes(hmacMd5(secret, copy), received)
}

/**
 * Decodes a CoA/Disconnect request and checks its Request Authenticator and (if present) its
 * Message-Authenticator against `secret`. Throws {@link RadiusCodecError} when either is wrong.
 *
 * @since 0.1.0
 */
export const decodeRequest = (packet: Buffer, secret: string): DecodedPacket => {
  const decoded = decode(packet)
  const copy = Buffer.from(packet.subarray(0, packet.readUInt16BE(2)))
  copy.fill(0, AUTH_START, AUTH_END)
  if (!sameBytes(md5(copy, secret), decoded.authenticator)) {
    throw new RadiusCodecError("Request Authenticator mismatch (wrong shared secret?)")
  }
  if (!messageAuthenticatorValid(packet, secret, zeroes)) {
    throw new RadiusCodecError("Message-Authenticator mismatch (wrong shared secret?)")
  }
  return decoded
}

/**
 * Decodes a response to `request` and checks its Response Authenticator and, when the response
 * carries one, its Message-Authenticator. A response without Message-Authenticator is accepted even
 * if the request had one (FreeRADIUS 3.2 and many NASes omit it; the Response Authenticator still
 * authenticates the packet). Throws {@link RadiusCodecError} when a check fails or the identifier
 * differs.
 *
 * @since 0.1.0
 */
export const decodeResponse = (request: Buffer, response: Buffer, secret: string): DecodedPacket => {
  const decoded = decode(response)
  if (decoded.identifier !== request[1]) {
    throw new RadiusCodecError(`identifier ${decoded.identifier} does not match request ${request[1]}`)
  }
  const requestAuthenticator = request.subarray(AUTH_START, AUTH_END)
  const copy = Buffer.from(response.subarray(0, response.readUInt16BE(2)))
  requestAuthenticator.copy(copy, AUTH_START)
  if (!sameBytes(md5(copy, secret), decoded.authenticator)) {
    throw new RadiusCodecError("Response Authenticator mismatch (wrong shared secret?)")
  }
  if (!messageAuthenticatorValid(response, secret, Buffer.from(requestAuthenticator))) {
    throw new RadiusCodecError("Message-Authenticator mismatch (wrong shared secret?)")
  }
  return decoded
}

/**
 * The Error-Cause (RFC 5176 §3.6) of a decoded packet: its number and, when the dictionary knows it,
 * its name (e.g. `503`, `"Session-Context-Not-Found"`).
 *
 * @since 0.1.0
 */
export const errorCause = (
  packet: DecodedPacket
): { readonly code: number; readonly name: string | undefined } | undefined => {
  const raw = packet.raw.find(([type, value]) => type === ERROR_CAUSE && value.length === 4)
  if (raw === undefined) return undefined
  const named = packet.attributes["Error-Cause"]
  return { code: raw[1].readUInt32BE(0), name: typeof named === "string" ? named : undefined }
}

/**
 * A vendor attribute of a decoded packet (e.g. `vendorAttribute(p, "Mikrotik-Rate-Limit")`).
 *
 * @since 0.1.0
 */
export const vendorAttribute = (packet: DecodedPacket, name: string): unknown => {
  const vendor = packet.attributes["Vendor-Specific"]
  return typeof vendor === "object" && vendor !== null ? (vendor as Record<string, unknown>)[name] : undefined
}
