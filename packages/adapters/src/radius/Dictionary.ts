/**
 * The `radius` npm package with the MikroTik vendor dictionary loaded.
 *
 * The package loads its dictionaries lazily on the first encode/decode and then never again, so an
 * `add_dictionary` after that first call is silently ignored. {@link ensureDictionaries} therefore
 * checks whether the MikroTik attributes resolve and, if not, loads the file directly; it is cheap
 * and idempotent, and the codec calls it before every encode/decode.
 *
 * @since 0.1.0
 */
import radiusModule from "radius"
import { fileURLToPath } from "node:url"

/** The parts of the package's runtime object that `@types/radius` does not declare. */
interface RadiusRuntime {
  readonly encode: typeof radiusModule.encode
  readonly decode_without_secret: typeof radiusModule.decode_without_secret
  readonly add_dictionary: (path: string) => void
  readonly load_dictionaries: () => void
  readonly load_dictionary: (path: string) => void
  readonly attr_name_to_id: (name: string, vendor?: number) => string | undefined
}

/**
 * The `radius` package object (CommonJS; its functions rely on `this`, so call them as methods).
 *
 * @since 0.1.0
 */
export const radius = radiusModule as unknown as RadiusRuntime

/**
 * Path of the committed MikroTik dictionary (FreeRADIUS's, in the format `add_dictionary` reads).
 *
 * @since 0.1.0
 */
export const mikrotikDictionaryPath: string = fileURLToPath(new URL("./dictionaries/dictionary.mikrotik", import.meta.url))

let registered = false

/**
 * Makes sure the package's own RFC dictionaries and the MikroTik dictionary are loaded.
 *
 * @since 0.1.0
 */
export const ensureDictionaries = (): void => {
  if (!registered) {
    // Registered as a location too, so a later `unload_dictionaries()` + reload keeps MikroTik.
    radius.add_dictionary(mikrotikDictionaryPath)
    registered = true
  }
  radius.load_dictionaries()
  if (radius.attr_name_to_id("Mikrotik-Rate-Limit", 14988) === undefined) {
    radius.load_dictionary(mikrotikDictionaryPath)
  }
}
