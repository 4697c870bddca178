export { type ExportResult, type ExportTarget, HEAD, type RetentionPolicy, type SnapshotInfo, SnapshotManager } from './snapshot-manager.js'
