import { assert, type BlockFile, ErrorCode, type FileSystem, parseRecord, type Purpose, RECORD_HEADER_BYTES, type SharedFile, StrataError, SyncChain } from '@strata/storage'
import { LAST_SEGMENT, type LogAddress, logAddress, offsetOf, SEGMENT_ADDRESS_BYTES, segmentOf } from './address.js'


/** The least share of `segmentBytes` a segment holds before the space policy may start the next one early. */
export const EARLY_ROLL_SHARE = 1 / 16

/** Record types a header may name (see record.ts). */
const KNOWN_TYPES = new Set([1, 2, 3, 4, 5, 6, 7])
/** Bytes {@link SegmentLog.scan} reads at a time (a longer record is read whole). */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024

/**
 * The offset of the first whole record in `data` at or after `from`, or -1. Only offsets whose
 * header looks like one (a known type, zero reserved bytes, a length that fits) are checksummed.
 */
function findWholeRecord(data: Buffer, from: number): number {
  for (let at = from; at + RECORD_HEADER_BYTES <= data.length; at++) {
    if (!KNOWN_TYPES.has(data[at + 8] as number) || data[at + 9] !== 0 || data[at + 10] !== 0 || data[at + 11] !== 0) continue
    if (at + RECORD_HEADER_BYTES + data.readUInt32LE(at + 4) > data.length) continue
    if (parseRecord(data.subarray(at))) return at
  }
  return -1
}

/** Names of segment files. */
export const SEGMENT_PATTERN = /^seg-(\d{8})\.log$/

/** The file name of segment `n`. */
export function segmentName(n: number): string {
  return `seg-${String(n).padStart(8, '0')}.log`
}

/** A record found by a scan of the log. */
export interface ScannedRecord {
  address: LogAddress
  type: number
  payload: Buffer
  /** Address just past the record. */
  next: LogAddress
}

/**
 * The append-only log, split into numbered segment files. Records are only ever appended; a
 * segment is removed whole once nothing in it is needed. Appends go to the active (newest)
 * segment; a new one starts when it passes `segmentBytes`.
 */
export class SegmentLog {
  readonly #fs: FileSystem
  readonly #segmentBytes: number
  readonly #files = new Map<number, BlockFile>()
  /** Segments written since their last sync. */
  readonly #unsynced = new Set<number>()
  /** Segments found to have no name but this folder's, which only {@link share} can change (see {@link sharedBytes}). */
  readonly #alone = new Set<number>()
  /** Whether a segment file was created or removed since the folder was last synced. */
  #entriesChanged = false
  /**
   * Orders syncs: one resolves only when everything appended before it is durable, including what
   * an earlier sync still in flight took over (earlier segments, new directory entries).
   */
  readonly #syncs = new SyncChain('the log', () => this.#broken)
  #active = 0
  #end = 0
  /** Set when a failed write could not be undone: the log takes no more appends. */
  #broken: Error | undefined

  constructor(fs: FileSystem, segmentBytes: number) {
    this.#fs = fs
    this.#segmentBytes = segmentBytes
    for (const name of fs.list()) {
      const match = SEGMENT_PATTERN.exec(name)
      if (match) this.#files.set(Number(match[1]), fs.open(name))
    }
    this.#active = Math.max(0, ...this.#files.keys())
  }

  /** Segment numbers present, ascending. */
  segments(): number[] {
    return [...this.#files.keys()].sort((a, b) => a - b)
  }

  /** Bytes in the segment files from `address` on (what a scan from there reads at most). */
  bytesFrom(address: LogAddress): number {
    let bytes = 0
    for (const [n, file] of this.#files) if (n >= segmentOf(address)) bytes += file.size() - (n === segmentOf(address) ? offsetOf(address) : 0)
    return bytes
  }

  get activeSegment(): number {
    return this.#active
  }

  /** Where the next record will go. */
  get end(): LogAddress {
    return logAddress(this.#active, this.#end)
  }

  /**
   * The address before which every record is durable: the end of the log when the newest
   * completed sync began. BATCH records carry it, so recovery can tell a record lost to a crash
   * (never covered by a sync) from damage to one that was durable.
   */
  get durableEnd(): LogAddress {
    return this.#syncs.durableEnd as LogAddress
  }

  /** Bytes of all segment files. */
  bytes(): number {
    let total = 0
    for (const file of this.#files.values()) total += file.size()
    return total
  }

  /**
   * Bytes of the segment files that have more than one name: hard links a clone, its source or
   * another clone holds too. A segment's names may drop at any moment (another database removes
   * its name, or its folder), but they grow only by a link made through this folder's name, which
   * only {@link share} makes while this database is open and locked. So a segment once found alone
   * is not asked again, and a database that never cloned nor was cloned asks each segment once:
   * an `fstat` costs about 3.5 µs, 0.5 ms at 150 segments, ten times what the rest of stats() costs.
   * (A link made by hand, `ln` or `cp -al`, to a segment already found alone shows at the next open.)
   */
  sharedBytes(): number {
    let total = 0
    for (const [segment, file] of this.#files) {
      if (this.#alone.has(segment)) continue
      if (file.links() > 1) total += file.size()
      else this.#alone.add(segment)
    }
    return total
  }

  /** Puts segment `segment`'s file into `target` for a clone, as {@link FileSystem.share} does. */
  share(segment: number, target: FileSystem, options: { link: boolean }): SharedFile {
    assert(this.#fs.share, `${this.#fs.location} cannot share its files`)
    const shared = this.#fs.share(segmentName(segment), target, options)
    if (shared.how === 'linked') this.#alone.delete(segment)
    return shared
  }

  segmentSize(segment: number): number {
    return this.#files.get(segment)?.size() ?? 0
  }

  /**
   * Starts the log after recovery: appends continue at `end`, and anything after it is cut off
   * (recovery has judged it a crash's leftovers, not damage: see RowEngine's recovery).
   */
  resume(end: LogAddress): void {
    const segment = segmentOf(end)
    for (const n of this.segments()) if (n > segment) this.remove(n)
    this.#active = segment
    this.#end = offsetOf(end)
    const file = this.#file(segment, true)
    if (file.size() !== this.#end) {
      // A segment another folder names too (a clone's, docs/format.md §Clones) is never cut: the
      // log never ends inside one, unless recovery fell back past a damaged checkpoint.
      if (file.links() > 1) throw new StrataError(ErrorCode.CORRUPTION, `${this.#fs.location}/${segmentName(segment)} is shared with another database (a clone), yet the log ends inside it at offset ${this.#end}: it is not cut`)
      file.truncate(this.#end)
      this.#unsynced.add(segment)
    }
  }

  /** The whole records of every segment numbered above `segment`, each up to its first bad one. */
  *recordsAbove(segment: number, purpose: Purpose): Generator<ScannedRecord> {
    for (const n of this.segments()) if (n > segment) yield* this.scanSegment(n, purpose)
  }

  /**
   * Counts every segment from `from` on as unsynced, so the next `sync` makes them durable: after
   * a crash, records the OS still held but never synced are replayed, and must not stay that way.
   */
  markUnsynced(from: number): void {
    for (const n of this.segments()) if (n >= from) this.#unsynced.add(n)
  }

  /** Starts a new segment; later appends go there. Throws STRATA_LOG_FULL past the last addressable segment. */
  roll(): void {
    if (this.#active >= LAST_SEGMENT) {
      throw new StrataError(ErrorCode.LOG_FULL, `${this.#fs.location}/${segmentName(this.#active)} is the log's last segment: its addresses would pass 2^53; export the database to a new folder`)
    }
    this.#active++
    this.#end = 0
    this.#file(this.#active, true)
    this.#unsynced.add(this.#active)
  }

  /**
   * Starts a new segment ahead of its size, for the space policy, when the active one holds at
   * least {@link EARLY_ROLL_SHARE} of a segment and is not the last addressable one; returns
   * whether it did. The floor keeps segment numbers from running out early: they last at least
   * 2^21 × `segmentBytes` × EARLY_ROLL_SHARE bytes of log, 8 TiB at the default (docs/format.md §Log addresses).
   */
  rollEarly(): boolean {
    if (this.#end < this.#segmentBytes * EARLY_ROLL_SHARE || this.#active >= LAST_SEGMENT) return false
    this.roll()
    return true
  }

  /**
   * Where an append of `bytes` will land: starts a new segment first if the active one would pass
   * its size (a single append larger than a segment gets a segment of its own). Throws
   * STRATA_LOG_FULL, writing nothing, when the append cannot be addressed (docs/format.md §Log addresses).
   */
  prepare(bytes: number): LogAddress {
    if (bytes > SEGMENT_ADDRESS_BYTES) {
      throw new StrataError(ErrorCode.LOG_FULL, `an append of ${bytes} bytes is more than one segment can address (2^32 bytes)`)
    }
    if (this.#end > 0 && this.#end + bytes > this.#segmentBytes) this.roll()
    return logAddress(this.#active, this.#end)
  }

  /**
   * Appends framed records (one buffer, written with one call) and returns the address of its
   * first byte. A failed write is cut back off, so the log never holds a partial record followed
   * by more records.
   */
  append(bytes: Buffer | readonly Buffer[], purpose: Purpose, prepared?: LogAddress): LogAddress {
    if (this.#broken) throw new StrataError(ErrorCode.IO_ERROR, 'the log failed earlier and takes no more writes; reopen the database', { cause: this.#broken })
    const length = Buffer.isBuffer(bytes) ? bytes.length : bytes.reduce((sum, b) => sum + b.length, 0)
    // Records laid out for the address `prepare` gave go exactly there, whatever their length.
    if (prepared === undefined || prepared !== this.end) this.prepare(length)
    const file = this.#file(this.#active, true)
    const at = this.#end
    try {
      file.write(at, bytes, purpose)
    } catch (error) {
      try {
        file.truncate(at)
      } catch (truncateError) {
        this.#broken = truncateError as Error
      }
      throw error
    }
    this.#end += length
    this.#unsynced.add(this.#active)
    return logAddress(this.#active, at)
  }

  /** Marks the log unusable for writes (after a failed sync, whose outcome the OS does not tell). */
  fail(error: Error): void {
    this.#broken ??= error
  }

  get broken(): Error | undefined {
    return this.#broken
  }

  /**
   * Makes every append so far durable, and the creation and removal of segment files with it.
   * Resolves only once every sync begun before it has completed too: a sync still in flight (a
   * background checkpoint's) may hold earlier segments or the directory entry of the segment this
   * one appends to, and power lost before it completes would lose what this sync is asked for.
   */
  sync(): Promise<void> {
    const segments = [...this.#unsynced]
    const entriesChanged = this.#entriesChanged
    this.#unsynced.clear()
    this.#entriesChanged = false
    return this.#syncs.run(this.end, async () => {
      try {
        for (const n of segments) await this.#file(n, false).sync()
        if (entriesChanged) await this.#fs.syncDirectory()
      } catch (error) {
        this.fail(error as Error)
        throw error
      }
    })
  }

  /** Reads `length` bytes at `address` (fewer at a segment's end). */
  read(address: number, length: number, purpose: Purpose): Buffer {
    const file = this.#files.get(segmentOf(address))
    if (!file) throw new StrataError(ErrorCode.CORRUPTION, `${this.#fs.location}/${segmentName(segmentOf(address))} is missing (needed at offset ${offsetOf(address)})`)
    return file.read(offsetOf(address), length, purpose)
  }

  /** Reads up to `target.length` bytes at `address` into `target` (fewer at a segment's end); returns how many. */
  readInto(address: number, target: Buffer, purpose: Purpose): number {
    const file = this.#files.get(segmentOf(address))
    if (!file) throw new StrataError(ErrorCode.CORRUPTION, `${this.#fs.location}/${segmentName(segmentOf(address))} is missing (needed at offset ${offsetOf(address)})`)
    return file.readInto(offsetOf(address), target, purpose)
  }

  /**
   * {@link readInto} without blocking, where the segment's file can read so; undefined where it
   * cannot (a file in memory), for the caller to read synchronously.
   */
  readIntoAsync(address: number, target: Buffer, purpose: Purpose): Promise<number> | undefined {
    const file = this.#files.get(segmentOf(address))
    if (!file) throw new StrataError(ErrorCode.CORRUPTION, `${this.#fs.location}/${segmentName(segmentOf(address))} is missing (needed at offset ${offsetOf(address)})`)
    return file.readIntoAsync?.(offsetOf(address), target, purpose)
  }

  /** Reads and verifies the record at `address`. Throws LEVEL_CORRUPTION if it is not whole. */
  readRecord(address: number, purpose: Purpose): { type: number; payload: Buffer } {
    const header = this.read(address, RECORD_HEADER_BYTES, purpose)
    const length = header.length === RECORD_HEADER_BYTES ? header.readUInt32LE(4) : 0
    const record = parseRecord(length > 0 ? Buffer.concat([header, this.read(address + RECORD_HEADER_BYTES, length, purpose)]) : header)
    if (!record) {
      throw new StrataError(ErrorCode.CORRUPTION, `bad record checksum in ${this.#fs.location}/${segmentName(segmentOf(address))} at offset ${offsetOf(address)}`)
    }
    return record
  }

  /** The whole records of one segment, up to the first bad one. */
  *scanSegment(segment: number, purpose: Purpose): Generator<ScannedRecord> {
    const file = this.#files.get(segment)
    if (!file) return
    const data = file.read(0, file.size(), purpose)
    for (let at = 0; ; ) {
      const record = parseRecord(data.subarray(at))
      if (!record) return
      const size = RECORD_HEADER_BYTES + record.payload.length
      yield { address: logAddress(segment, at), type: record.type, payload: record.payload, next: logAddress(segment, at + size) }
      at += size
    }
  }

  /**
   * The whole records from `from` on, in order, across segments, up to the first record that is
   * missing, torn or fails its checksum: the end of the valid log.
   *
   * The segments are read in chunks into one buffer that each chunk overwrites, so a record's
   * payload is valid only until the consumer asks for the next record: whatever it keeps, it
   * copies. (Reading a whole segment into a new buffer cost more in page faults than the replay
   * of its records.)
   */
  *scan(from: LogAddress, purpose: Purpose): Generator<ScannedRecord> {
    let segment = segmentOf(from)
    let offset = offsetOf(from)
    let buf = Buffer.allocUnsafeSlow(SCAN_CHUNK_BYTES)
    while (this.#files.has(segment)) {
      const file = this.#files.get(segment) as BlockFile
      const size = file.size()
      // buf[0, got) holds the segment's bytes from `start`; `at` is the next record's place in buf.
      let start = offset
      let got = file.readInto(start, buf, purpose)
      let at = 0
      for (;;) {
        // A record the chunk cuts short is read again from its start, into a buffer large enough,
        // if the segment holds as many bytes as its header claims; else it is the log's end.
        const claimed = got - at >= RECORD_HEADER_BYTES ? RECORD_HEADER_BYTES + buf.readUInt32LE(at + 4) : RECORD_HEADER_BYTES
        if (at + claimed > got && start + at + claimed <= size && (at > 0 || claimed > buf.length)) {
          start += at
          at = 0
          if (claimed > buf.length) buf = Buffer.allocUnsafeSlow(claimed)
          got = file.readInto(start, buf, purpose)
          continue
        }
        const record = parseRecord(buf.subarray(at, got))
        if (!record) break
        const recordBytes = RECORD_HEADER_BYTES + record.payload.length
        yield { address: logAddress(segment, start + at), type: record.type, payload: record.payload, next: logAddress(segment, start + at + recordBytes) }
        at += recordBytes
      }
      if (start + at !== size || !this.#files.has(segment + 1)) return
      segment++
      offset = 0
    }
  }

  /**
   * The whole records after a bad one at `bad` in its segment: where the log would go on if the
   * bad record were damage rather than a torn tail. Empty when nothing whole follows.
   */
  *recordsAfter(bad: LogAddress, purpose: Purpose): Generator<ScannedRecord> {
    const segment = segmentOf(bad)
    const file = this.#files.get(segment)
    if (!file) return
    const data = file.read(offsetOf(bad), file.size() - offsetOf(bad), purpose)
    const first = findWholeRecord(data, 1)
    if (first >= 0) yield* this.scan(logAddress(segment, offsetOf(bad) + first), purpose)
  }

  /** Removes segment `segment`'s file: nothing in it is needed any more. */
  remove(segment: number): void {
    const file = this.#files.get(segment)
    if (!file) return
    file.close()
    this.#files.delete(segment)
    this.#unsynced.delete(segment)
    this.#alone.delete(segment)
    this.#fs.remove(segmentName(segment))
    this.#entriesChanged = true
  }

  close(): void {
    for (const file of this.#files.values()) file.close()
    this.#files.clear()
    this.#alone.clear()
  }

  #file(segment: number, create: boolean): BlockFile {
    let file = this.#files.get(segment)
    if (!file) {
      if (!create) throw new Error(`strata: invariant broken: no segment ${segment}`)
      file = this.#fs.open(segmentName(segment), { create: true })
      this.#files.set(segment, file)
      this.#entriesChanged = true
    }
    return file
  }
}
