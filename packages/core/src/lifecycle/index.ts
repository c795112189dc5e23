export * from "./Lifecycle.js"
