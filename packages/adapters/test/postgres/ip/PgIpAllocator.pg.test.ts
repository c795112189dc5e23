import { describe, layer } from "@effect/vitest"
import { Layer } from "effect"
import { ipAllocatorContract } from "../../../../core/test/ip/IpAllocatorContract.js"
import * as PgIpAllocator from "../../../src/postgres/ip/PgIpAllocator.js"
import * as TestDatabase from "../../support/TestDatabase.js"

describe.skipIf(!TestDatabase.realPostgresAvailable())("real PostgreSQL", () => {
  layer(PgIpAllocator.layer.pipe(Layer.provide(TestDatabase.layerPg())), { excludeTestServices: true, timeout: "120 seconds" })(
    "PgIpAllocator contract on PostgreSQL",
    (it) => {
      ipAllocatorContract(it)
    }
  )
})
