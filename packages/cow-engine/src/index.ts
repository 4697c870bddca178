/**
 * The copy-before-write engine: pages updated in place, with a WAL and pre-image stores for snapshots.
 *
 * @module @strata/cow-engine
 */
export { CowEngine, type CowEngineOptions } from './cow-engine.js'
export { type CheckpointPolicy, DEFAULT_CHECKPOINT_POLICY } from './checkpoint.js'
export type { StoreMode } from './preimage-store.js'
export { holdsDatabase } from './recovery.js'
