/**
 * Everything IP-pool related in one place: the models and errors, the `IpAllocator` port, the pure
 * address math and the in-memory allocator. Re-exported from the package root.
 *
 * @since 0.1.0
 */
export * from "../domain/IpPool.js"
export * from "../ports/IpAllocator.js"
export * as IpAddress from "./Address.js"
export * as PoolSpace from "./PoolSpace.js"
export * as PoolConfig from "./PoolConfig.js"
export * as MemoryIpAllocator from "../memory/MemoryIpAllocator.js"
