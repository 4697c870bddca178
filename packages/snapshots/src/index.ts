/**
 * The snapshot manager: named durable snapshots, retention, diff, restore and export over either engine.
 *
 * @module @strata/snapshots
 */
export { partialCloneFolder } from './clone-folder.js'
export { checkRetention, type ExportResult, type ExportTarget, HEAD, type RetentionPolicy, type SnapshotInfo, SnapshotManager } from './snapshot-manager.js'
