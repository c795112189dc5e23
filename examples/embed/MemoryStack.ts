/** The use-cases on memory adapters with a simulated network: no database needed. */
import { BillingHooksNoop, MemoryIpAllocator, MemoryRepositoriesLayer, ServiceCatalog, ServiceProvisioning, ServiceQuery, SimulatedNas, SimulatedRadius, SimulatedRouter, Transactor, WorkflowEngine } from "@isp-framework/core"
import { Layer } from "effect"

export const MemoryStack = Layer.mergeAll(
  ServiceQuery.Default,
  ServiceProvisioning.Default,
  ServiceCatalog.Default,
  WorkflowEngine.Default
).pipe(
  Layer.provideMerge(Layer.mergeAll(
    MemoryRepositoriesLayer,
    MemoryIpAllocator.layer,
    Transactor.layerMemory,
    SimulatedRadius.layer,
    SimulatedRouter.layer,
    SimulatedNas.layer,
    BillingHooksNoop
  ))
)
