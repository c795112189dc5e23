/**
 * Hot-path construction of Schema.Class instances. `new C(props, true)` still walks every field
 * looking for defaults (~5 µs per instance); the fold builds three instances per accounting packet.
 * A Schema.Class instance is its prototype plus the props as own fields (Data.Class's constructor
 * is `Object.assign(this, props)`), so for complete, already-valid props this is equivalent. The props
 * object itself becomes the instance (no copy): pass a fresh literal.
 * test/usage/Counters.test.ts checks the equivalence, so an Effect upgrade that breaks it fails there.
 *
 * @internal
 */
export const instance = <C extends abstract new (props: any, options?: any) => any>(
  C: C,
  props: ConstructorParameters<C>[0]
): InstanceType<C> => Object.setPrototypeOf(props, C.prototype)
