/**
 * StrataLevel, the abstract-level 3 database apps import, and its snapshot API.
 *
 * @module strata
 */
export { type EngineName, type EngineOptions, engineOf } from './engines.js'
export { msgpack } from './msgpack-encoding.js'
export { type RangeOptions, StrataLevel, type StrataLevelOptions } from './strata-level.js'
export { type ExportResult, type RetentionPolicy, type SnapshotInfo } from '@strata/snapshots'
export { type SnapshotChange, StrataSnapshots } from './snapshots.js'
export { type CloneOptions, type CloneResult, type RecoveryProgress } from '@strata/btree'
