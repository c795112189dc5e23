/**
 * Usage tracking, pure core: 64-bit counters, the accounting session fold, period buckets in the
 * operator's time zone, Smart FUP, quotas and prepaid balances. See docs/usage-model.md.
 *
 * @since 0.1.0
 */
export * as Counters from "./Counters.js"
export * as Fup from "./Fup.js"
export * as Periods from "./Periods.js"
export * as SessionFold from "./SessionFold.js"
