export { CowEngine, type CowEngineOptions } from './cow-engine.js'
export { type CheckpointPolicy, DEFAULT_CHECKPOINT_POLICY } from './checkpoint.js'
export type { StoreMode } from './preimage-store.js'
