/**
 * The redirect-on-write engine: a B+tree in an append-only segmented log.
 *
 * @module @strata/row-engine
 */
export { type CheckpointPolicy, DEFAULT_CHECKPOINT_POLICY } from './checkpoint.js'
export { RowEngine, type RowEngineOptions } from './row-engine.js'
export { holdsDatabase } from './meta.js'
