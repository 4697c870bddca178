import { LogRecordType } from '@strata/btree'

/**
 * The record types of the ROW engine's log (docs/format.md §Log records): the four both engines'
 * logs have, and the named-snapshot records. Records are framed unsalted (`sealRecord` and
 * `parseRecord` of @strata/storage, a 12-byte header).
 */
export const RecordType = {
  ...LogRecordType,
  /** A named snapshot is created. */
  SNAPSHOT: 5,
  /** A named snapshot is deleted. */
  DROP: 6,
  /** The head becomes a named snapshot's state. */
  RESTORE: 7,
} as const

