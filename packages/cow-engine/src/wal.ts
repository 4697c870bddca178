import { type BlockFile, crc32, ErrorCode, type FileSystem, parseRecord, type Purpose, readU64, SALTED_RECORD_HEADER_BYTES, StrataError, SyncChain, writeU64 } from '@strata/storage'
import { saltOf } from './record.js'

/** The file name of the write-ahead log. */
export const WAL_FILE = 'wal.log'
/** Bytes of the WAL header; records follow it. */
export const WAL_HEADER_BYTES = 32
const WAL_MAGIC = 0x57525453 // 'STRW'
const WAL_VERSION = 1

/** A record found by a scan of the WAL. */
export interface ScannedRecord {
  lsn: number
  type: number
  payload: Buffer
  /** The LSN just past the record. */
  next: number
}

function encodeHeader(base: number, pageSize: number): Buffer {
  const buf = Buffer.alloc(WAL_HEADER_BYTES)
  buf.writeUInt32LE(WAL_MAGIC, 4)
  buf.writeUInt16LE(WAL_VERSION, 8)
  buf.writeUInt32LE(pageSize, 12)
  writeU64(buf, base, 16)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/**
 * The write-ahead log (docs/format.md §WAL): a 32-byte header naming the generation's base LSN,
 * then records appended one write at a time. Commits append BATCH and VALUE records; a checkpoint
 * appends the full images of the pages it is about to overwrite and a CHECKPOINT record; once the
 * checkpoint is in place and the meta names it, the WAL is reset to a new generation whose base
 * is the LSN after that record. The record at file offset `o` has LSN `base + o − 32`.
 */
export class Wal {
  readonly #fs: FileSystem
  readonly #file: BlockFile
  readonly #pageSize: number
  #base = 0
  #end = 0
  #salt = 0
  #unsynced = false
  #broken: Error | undefined
  /** Orders syncs: one resolves only once every sync begun before it has completed too. */
  readonly #syncs = new SyncChain('the WAL', () => this.#broken)
  /** The base LSN the header held when the file was opened; undefined if it held no valid header. */
  readonly headerBase: number | undefined

  private constructor(fs: FileSystem, file: BlockFile, pageSize: number) {
    this.#fs = fs
    this.#file = file
    this.#pageSize = pageSize
    const header = file.read(0, WAL_HEADER_BYTES, 'meta')
    this.headerBase = this.#decodeHeader(header)
    if (this.headerBase !== undefined) this.#setBase(this.headerBase, Math.max(0, file.size() - WAL_HEADER_BYTES))
  }

  /** Opens the WAL of a database of `pageSize`-byte pages, creating an empty file when there is none. */
  static open(fs: FileSystem, pageSize: number): Wal {
    return new Wal(fs, fs.open(WAL_FILE, { create: true }), pageSize)
  }

  #decodeHeader(buf: Buffer): number | undefined {
    if (buf.length < WAL_HEADER_BYTES || crc32(buf.subarray(4)) !== buf.readUInt32LE(0)) return undefined
    if (buf.readUInt32LE(4) !== WAL_MAGIC) return undefined
    const version = buf.readUInt16LE(8)
    if (version !== WAL_VERSION) throw new StrataError(ErrorCode.UNSUPPORTED_FORMAT, `${this.#fs.location}/${WAL_FILE} has format version ${version}`)
    if (buf.readUInt32LE(12) !== this.#pageSize) throw new StrataError(ErrorCode.CORRUPTION, `${this.#fs.location}/${WAL_FILE} was written for another page size`)
    return readU64(buf, 16)
  }

  #setBase(base: number, logged: number): void {
    this.#base = base
    this.#end = base + logged
    this.#salt = saltOf(base)
  }

  /**
   * The LSN before which every record is durable. BATCH records carry it, so recovery can tell a
   * record lost to a crash (never covered by a sync) from damage to one that was durable.
   */
  get durableEnd(): number {
    return this.#syncs.durableEnd
  }

  /** LSN of the first record of this generation. */
  get base(): number {
    return this.#base
  }

  /** LSN the next record will get. */
  get end(): number {
    return this.#end
  }

  /** The salt every record of this generation carries. */
  get salt(): number {
    return this.#salt
  }

  /** Bytes of records appended in this generation. */
  get logged(): number {
    return this.#end - this.#base
  }

  /** Bytes of the file. */
  fileBytes(): number {
    return this.#file.size()
  }

  /** Bytes of the file if it has more than one name (hard links), else 0. */
  sharedBytes(): number {
    return this.#file.links() > 1 ? this.#file.size() : 0
  }

  /** Whether the file holds bytes past a header (records, or damage). */
  hasRecordBytes(): boolean {
    return this.#file.size() > WAL_HEADER_BYTES
  }

  /**
   * Starts a new generation at `base`: the file is cut to nothing, then gets a new header. The cut
   * comes first, so no crash leaves a new header before old records. Durable after `sync`.
   */
  reset(base: number): void {
    this.#file.truncate(0)
    this.#file.write(0, encodeHeader(base, this.#pageSize), 'meta')
    this.#setBase(base, 0)
    this.#syncs.restart(base)
    this.#unsynced = true
  }

  /** Cuts the WAL after `end`, the end of its last valid record: appends continue there. */
  resume(end: number): void {
    const size = WAL_HEADER_BYTES + end - this.#base
    if (this.#file.size() !== size) {
      this.#file.truncate(size)
      this.#unsynced = true
    }
    this.#end = end
  }

  /**
   * Appends framed records (written with one call) and returns the LSN of the first. A failed
   * write is cut back off, so the WAL never holds a partial record followed by more records.
   */
  append(bytes: Buffer | readonly Buffer[], purpose: Purpose): number {
    if (this.#broken) throw new StrataError(ErrorCode.IO_ERROR, 'the WAL failed earlier and takes no more writes; reopen the database', { cause: this.#broken })
    const length = Buffer.isBuffer(bytes) ? bytes.length : bytes.reduce((sum, b) => sum + b.length, 0)
    const lsn = this.#end
    const offset = WAL_HEADER_BYTES + lsn - this.#base
    try {
      this.#file.write(offset, bytes, purpose)
    } catch (error) {
      try {
        this.#file.truncate(offset)
      } catch (truncateError) {
        this.#broken = truncateError as Error
      }
      throw error
    }
    this.#end += length
    this.#unsynced = true
    return lsn
  }

  /**
   * Makes every append and reset so far durable. Resolves only once every sync begun before it
   * has completed too. A failed sync leaves the WAL unusable for writes.
   */
  sync(): Promise<void> {
    const unsynced = this.#unsynced
    this.#unsynced = false
    return this.#syncs.run(this.#end, async () => {
      if (!unsynced) return
      try {
        await this.#file.sync()
      } catch (error) {
        this.fail(error as Error)
        throw error
      }
    })
  }

  /** Marks the WAL unusable for writes (after a failed sync, whose outcome the OS does not tell). */
  fail(error: Error): void {
    this.#broken ??= error
  }

  get broken(): Error | undefined {
    return this.#broken
  }

  /** Reads and verifies the record at `lsn`; LEVEL_CORRUPTION if it is not a whole record of this generation. */
  readRecord(lsn: number, purpose: Purpose): { type: number; payload: Buffer } {
    const offset = WAL_HEADER_BYTES + lsn - this.#base
    if (lsn < this.#base || lsn >= this.#end) throw this.#corrupt(offset, `LSN ${lsn} outside the WAL`)
    const header = this.#file.read(offset, SALTED_RECORD_HEADER_BYTES, purpose)
    const length = header.length === SALTED_RECORD_HEADER_BYTES ? header.readUInt32LE(4) : 0
    const whole = length > 0 ? Buffer.concat([header, this.#file.read(offset + SALTED_RECORD_HEADER_BYTES, length, purpose)]) : header
    const record = parseRecord(whole, this.#salt)
    if (!record) throw this.#corrupt(offset, 'bad record checksum')
    return record
  }

  /** The whole records from `from` on, in order, up to the first that is torn, fails its checksum or carries another salt. */
  *scan(from: number, purpose: Purpose): Generator<ScannedRecord> {
    const offset = WAL_HEADER_BYTES + from - this.#base
    const data = this.#file.read(offset, Math.max(0, this.#file.size() - offset), purpose)
    for (let at = 0; ; ) {
      const record = parseRecord(data.subarray(at), this.#salt)
      if (!record) return
      const size = SALTED_RECORD_HEADER_BYTES + record.payload.length
      yield { lsn: from + at, type: record.type, payload: record.payload, next: from + at + size }
      at += size
    }
  }

  /**
   * The whole records of this generation after a bad one at `bad`: where the WAL would go on if
   * the bad record were damage rather than a torn tail. Empty when nothing whole follows.
   */
  *recordsAfter(bad: number, purpose: Purpose): Generator<ScannedRecord> {
    const offset = WAL_HEADER_BYTES + bad - this.#base
    const data = this.#file.read(offset, Math.max(0, this.#file.size() - offset), purpose)
    for (let at = 1; at + SALTED_RECORD_HEADER_BYTES <= data.length; at++) {
      // Only offsets whose header looks like one (a known type, zero reserved bytes, this
      // generation's salt, a length that fits) are checksummed.
      const type = data[at + 8] as number
      if (type < 1 || type > 4 || data[at + 9] !== 0 || data[at + 10] !== 0 || data[at + 11] !== 0) continue
      if (data.readUInt32LE(at + 12) !== this.#salt || at + SALTED_RECORD_HEADER_BYTES + data.readUInt32LE(at + 4) > data.length) continue
      if (parseRecord(data.subarray(at), this.#salt)) {
        yield* this.scan(bad + at, purpose)
        return
      }
    }
  }

  /** The file offset of the record at `lsn`. */
  offsetOf(lsn: number): number {
    return WAL_HEADER_BYTES + lsn - this.#base
  }

  /** Where an error about file offset `offset` points. */
  #corrupt(offset: number, what: string): StrataError {
    return new StrataError(ErrorCode.CORRUPTION, `${what} in ${this.#fs.location}/${WAL_FILE} at offset ${offset}`)
  }

  close(): void {
    this.#file.close()
  }
}
