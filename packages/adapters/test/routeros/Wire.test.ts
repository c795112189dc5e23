/**
 * The test server's wire codec, checked against the encoding rules and against node-routeros' own
 * transmitter and receiver (the client the adapter uses), at every length-prefix boundary.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Receiver, Transmitter } from "node-routeros"
import {
  decodeLength,
  decodeWin1252,
  encodeLength,
  encodeSentence,
  encodeWin1252,
  encodeWord,
  SentenceReader
} from "../support/RouterOsTestServer.js"

// node-routeros keeps these methods private; they are the reference implementation here.
const transmitter = new Transmitter({} as never) as unknown as { encodeString(s: string | null): Buffer | string }
const clientDecodeLength = (data: Buffer): [number, number] =>
  (new Receiver({} as never) as unknown as { decodeLength(d: Buffer): [number, number] }).decodeLength(data)

/** Every boundary of the 1..5-byte encodings, and the size each side must take. */
const boundaries: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0x7f, 1],
  [0x80, 2],
  [0x3fff, 2],
  [0x4000, 3],
  [0x1fffff, 3],
  [0x200000, 4],
  [0xfffffff, 4],
  [0x10000000, 5],
  [0x7fffffff, 5],
  [0xffffffff, 5]
]

const win1252Char = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom("€", "‚", "ƒ", "„", "…", "†", "‡", "ˆ", "‰", "Š", "‹", "Œ", "Ž", "‘", "’", "“", "”", "•", "–", "—", "˜", "™", "š", "›", "œ", "ž", "Ÿ")
)
const win1252String = (maxLength: number) => fc.array(win1252Char, { maxLength }).map((cs) => cs.join(""))

describe("RouterOS word length encoding", () => {
  for (const [length, bytes] of boundaries) {
    it(`length 0x${length.toString(16)} takes ${bytes} byte(s) and decodes back, as node-routeros reads it`, () => {
      const header = encodeLength(length)
      expect(header.length).toBe(bytes)
      expect(decodeLength(header)).toEqual({ length, bytes })
      // node-routeros' decoder uses 32-bit signed shifts: compare where it is defined.
      if (length < 0x80000000) expect(clientDecodeLength(header)).toEqual([bytes, length])
      // A truncated prefix is "need more bytes", never a wrong length.
      for (let cut = 0; cut < bytes; cut++) expect(decodeLength(header.subarray(0, cut))).toBeUndefined()
    })
  }

  it("matches node-routeros' transmitter byte for byte on real words at the boundaries it can allocate", () => {
    for (const [length] of boundaries.filter(([n]) => n <= 0x200000)) {
      const word = "x".repeat(length)
      expect(encodeWord(word).equals(Buffer.from(transmitter.encodeString(word) as Buffer))).toBe(true)
    }
  })

  it.prop("round-trips every length", [fc.integer({ min: 0, max: 0xffffffff })], ([length]) => {
    const header = encodeLength(length)
    const expected = length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : length < 0x10000000 ? 4 : 5
    expect(header.length).toBe(expected)
    expect(decodeLength(Buffer.concat([Buffer.from([0xaa]), header, Buffer.from([1, 2])]), 1)).toEqual({
      length,
      bytes: expected
    })
    if (length < 0x80000000) expect(clientDecodeLength(header)).toEqual([expected, length])
  })

  it.prop(
    "length prefixes agree with node-routeros' transmitter",
    [fc.oneof(fc.integer({ min: 0, max: 0x3fff }), fc.integer({ min: 0x3ff0, max: 0x4010 }))],
    ([length]) => {
      const ours = encodeLength(length)
      const theirs = Buffer.from(transmitter.encodeString("a".repeat(length)) as Buffer).subarray(0, ours.length)
      expect(ours.equals(theirs)).toBe(true)
    }
  )

  it.prop("encodes words in Windows-1252 exactly as node-routeros (iconv) does", [win1252String(200)], ([text]) => {
    expect(encodeWord(text).equals(Buffer.from(transmitter.encodeString(text) as Buffer))).toBe(true)
    expect(decodeWin1252(encodeWin1252(text))).toBe(text)
  })

  it.prop("reads sentences back whatever the TCP chunking", [
    fc.array(fc.array(win1252String(300).filter((w) => w.length > 0), { minLength: 1, maxLength: 6 }), {
      minLength: 1,
      maxLength: 5
    }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 })
  ], ([sentences, cuts]) => {
    const bytes = Buffer.concat(sentences.map(encodeSentence))
    const reader = new SentenceReader()
    const out: Array<Array<string>> = []
    let offset = 0
    for (let i = 0; offset < bytes.length; i++) {
      const size = cuts[i % cuts.length]!
      out.push(...reader.push(bytes.subarray(offset, offset + size)))
      offset += size
    }
    expect(out).toEqual(sentences)
  })

  it.prop("a reply the server encodes is what node-routeros' receiver hands to the command", [
    fc.array(fc.dictionary(fc.stringMatching(/^[a-z][a-z-]{0,10}$/), win1252String(40), { maxKeys: 5 }), {
      maxLength: 5
    })
  ], ([rows]) => {
    const packets: Array<Array<string>> = []
    const receiver = new Receiver({ emit: () => true } as never)
    receiver.read("t1", (packet: Array<string>) => packets.push(packet))
    const sentences = [
      ...rows.map((row) => ["!re", ...Object.entries(row).map(([k, v]) => `=${k}=${v}`), ".tag=t1"]),
      ["!done", ".tag=t1"]
    ]
    receiver.processRawData(Buffer.concat(sentences.map(encodeSentence)))
    expect(packets).toEqual(sentences.map((s) => s.filter((w) => !w.startsWith(".tag="))))
  })
})
