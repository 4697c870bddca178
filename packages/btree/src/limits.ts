import { ErrorCode, rangeError } from '@strata/storage'

/** The longest key the format stores. */
export const MAX_KEY_BYTES = 1024
/** The longest value the format stores. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024
/** The page size both engines use unless told otherwise. */
export const DEFAULT_PAGE_SIZE = 4096

/** Throws a RangeError with a stable code when a key or value is longer than the format allows. */
export function checkSizes(key: Uint8Array, value?: Uint8Array): void {
  if (key.length > MAX_KEY_BYTES) {
    throw rangeError(ErrorCode.KEY_TOO_LARGE, `key of ${key.length} bytes exceeds the ${MAX_KEY_BYTES}-byte limit`)
  }
  if (value && value.length > MAX_VALUE_BYTES) {
    throw rangeError(ErrorCode.VALUE_TOO_LARGE, `value of ${value.length} bytes exceeds the ${MAX_VALUE_BYTES}-byte limit`)
  }
}
