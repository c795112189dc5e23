import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { formatInvoices, layer, main } from "./main.js"

const GB = 1_000_000_000n

describe("examples/billing", () => {
  it.effect("the billing run bills March's usage once per byte, with overage on the capped plan", () =>
    Effect.gen(function*() {
      const { lines, aliceDays, aliceTotal } = yield* main
      expect(lines.map((l) => [l.customer, l.plan, l.downloadBytes, l.uploadBytes, l.overageGb, l.amountCents])).toEqual([
        ["C-ALICE", "fiber-100", 12n * GB, 4n * GB, 0n, 3_900], // retransmit counted once; April's session left out
        ["C-BOB", "lite-20", 10n * GB, GB / 2n, 1n, 1_950], // 10.5 GB on a 10 GB plan: one started GB over
        ["C-BOB", "lite-20", 3n * GB, GB / 10n, 0n, 1_900] // Stop without Start still billed
      ])
      expect(aliceDays).toBe(1)
      expect(aliceTotal).toBe(16n * GB)
      expect(formatInvoices(lines).split("\n")).toHaveLength(4)
    }).pipe(Effect.provide(layer)))
})
