/**
 * The B+tree both engines share, and the engine contract.
 *
 * @module @strata/btree
 */
export { BatchLayout, type BatchOutline, batchRecordBytes, decodeBatch, operationAt, outlineBatch, decodeValue, encodeBatch, encodeValue, type LoggedOperation, LogRecordType, valueRecordBytes } from './batch-record.js'
export { BatchUndo } from './batch-undo.js'
export { checkTree, type TreeShape } from './check.js'
export { beginClone, CLONE_MARKER, endClone, refuseUnfinishedClone } from './clone-marker.js'
export { calibrateReplay, checkPositiveFields, DEFAULT_LOG_CHECKPOINT_POLICY, type LogCheckpointPolicy, REPLAY_SPEED, replayEstimateMs } from './checkpoint-policy.js'
export { Cursor, type Range } from './cursor.js'
export { checkSizes, DEFAULT_PAGE_SIZE, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './limits.js'
export {
  type Branch,
  type Child,
  compareKeys,
  isRef,
  keyCount,
  type Leaf,
  leafKey,
  leafValue,
  NO_ADDRESS,
  type Node,
  PAGE_HEADER_BYTES,
  type PageAddress,
  setLeafValue,
  type StoredValue,
  type ValueRef,
} from './node.js'
export { decodeNode, encodeNode, pageImageLength, pageProbe } from './page-layout.js'
export { loadChild, type PageSource } from './page-source.js'
export { REPLAY_RUN_BYTES, REPLAY_RUN_OPERATIONS, ReplayRun, ReplayRuns, type ReplayTarget } from './replay-run.js'
export { type InMemoryLookup, inlineLimit, lookup, lookupInMemory, maxKeyBytes, Tree, type TreeEvents } from './tree.js'
export { cacheWritten, dirtyBytes, dirtyLeaves, type PageWriter, spill, spillNode } from './spill.js'
export { type CacheStats, cacheStats, checkCacheSize, DEFAULT_CACHE_SIZE, PageCache } from './page-cache.js'
export type { CloneOptions, CloneResult, Clones, Engine, RecoveryProgress, EngineCursor, EngineSnapshot, EngineStats, NamedSnapshotInfo, NamedSnapshots, Operation, SnapshotEngine, WriteOptions } from './engine.js'
export { copyOperations } from './engine.js'
export { checkOperations, checkSnapshotArguments } from './engine-arguments.js'
export { type CursorHolder, engineCursor } from './engine-cursor.js'
export { engineStats } from './engine-stats.js'
export { type Change, type DiffCost, type DiffSide, diffTrees, walkApart, type WalkedApart } from './diff.js'
export { GROUP_MAX_BYTES, GROUP_MAX_OPERATIONS, type PendingBatch, TaskQueue } from './task-queue.js'
