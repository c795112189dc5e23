import { layer } from "@effect/vitest"
import { MemoryIpAllocator } from "../../src/ip/index.js"
import { ipAllocatorContract } from "./IpAllocatorContract.js"

layer(MemoryIpAllocator.layer, { excludeTestServices: true })("MemoryIpAllocator contract", (it) => {
  ipAllocatorContract(it)
})
