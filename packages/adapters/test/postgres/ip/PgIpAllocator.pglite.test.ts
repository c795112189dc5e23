import { layer } from "@effect/vitest"
import { Layer } from "effect"
import { ipAllocatorContract } from "../../../../core/test/ip/IpAllocatorContract.js"
import * as PgIpAllocator from "../../../src/postgres/ip/PgIpAllocator.js"
import * as TestDatabase from "../../support/TestDatabase.js"

layer(PgIpAllocator.layer.pipe(Layer.provide(TestDatabase.layerPglite())), { excludeTestServices: true, timeout: "120 seconds" })(
  "PgIpAllocator contract on PGlite",
  (it) => {
    ipAllocatorContract(it)
  }
)
