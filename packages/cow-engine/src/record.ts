import { LogRecordType } from '@strata/btree'

/**
 * The record types of the COW engine's WAL (docs/format.md §COW WAL records): the four both
 * engines' logs have. A PAGE record's page image carries the page number it belongs at, and a
 * CHECKPOINT record the new meta's fields.
 *
 * Records are framed salted (`sealRecord` and `parseRecord` of @strata/storage with the salt, a
 * 16-byte header): the salt ties a record to one WAL generation, as SQLite's WAL salts its frames,
 * so that a record an earlier generation left behind (a reset whose truncation a crash undid)
 * fails the salt check and ends the scan instead of being replayed.
 */
export const RecordType = LogRecordType

/** The salt of a WAL generation that starts at `base`. */
export function saltOf(base: number): number {
  return base % 2 ** 32 >>> 0
}
