/**
 * Block files (disk, memory, crash-simulating, in-memory overlays), I/O accounting, checksums and error codes.
 *
 * @module @strata/storage
 */
export { crc32 } from './checksum.js'
export { type CrashFeatures, CrashFileSystem, type CrashFileSystemOptions, type CrashMode, type CrashState, SECTOR_SIZE } from './crash-file-system.js'
export { assert, corruption, ErrorCode, type ErrorCodeValue, rangeError, StrataError } from './errors.js'
export { type Fault, type FaultableFileSystem, type FaultInjector, type FaultOperation } from './fault.js'
export { FaultyFileSystem } from './faulty-file-system.js'
export { type BlockFile, type FileSystem, holdsBytes, type SharedFile, syncFiles } from './file-system.js'
export { type IoReport, IoStats, PURPOSES, type Purpose } from './io-stats.js'
export { MemoryFileData, MemoryFileSystem } from './memory-file-system.js'
export { NodeFileSystem, type NodeFileSystemOptions } from './node-file-system.js'
export { OverlayFileSystem } from './overlay-file-system.js'
export { frameRecord, parseRecord, RECORD_HEADER_BYTES, readU64, SALTED_RECORD_HEADER_BYTES, sealRecord, writeU64 } from './record-frame.js'
export { SyncChain } from './sync-chain.js'
