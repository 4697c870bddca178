export { type CheckpointPolicy, DEFAULT_CHECKPOINT_POLICY, RowEngine, type RowEngineOptions } from './row-engine.js'
export { holdsDatabase } from './meta.js'
