import { type BlockFile, crc32, ErrorCode, type FileSystem, readU64, StrataError, writeU64 } from '@strata/storage'

/**
 * The META file: two 64-byte slots at offsets 0 and 512 (separate sectors, so a torn write of one
 * never harms the other), written alternately, as LMDB keeps two meta pages. The valid slot with
 * the higher generation names the newest durable checkpoint. Layout in docs/format.md §META.
 */
export const META_FILE = 'META'
const MAGIC = 0x41525453 // 'STRA'
export const FORMAT_VERSION = 1
const SLOT_BYTES = 64
const SLOT_OFFSETS = [0, 512] as const
const slotOffset = (generation: number): number => (generation % 2 === 0 ? 0 : 512)
const META_FILE_BYTES = 1024

/** What a meta slot records. */
export interface Meta {
  /** Increases with every meta write. */
  generation: number
  pageSize: number
  segmentBytes: number
  /** Address of the newest durable checkpoint record. */
  checkpoint: number
  /** Sequence number of that checkpoint. */
  checkpointSeq: number
}

function encodeSlot(meta: Meta): Buffer {
  const buf = Buffer.alloc(SLOT_BYTES)
  buf.writeUInt32LE(MAGIC, 4)
  buf.writeUInt16LE(FORMAT_VERSION, 8)
  buf.writeUInt16LE(0, 10)
  buf.writeUInt32LE(meta.pageSize, 12)
  writeU64(buf, meta.generation, 16)
  writeU64(buf, meta.checkpoint, 24)
  writeU64(buf, meta.checkpointSeq, 32)
  buf.writeUInt32LE(meta.segmentBytes, 40)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

function decodeSlot(buf: Buffer, location: string): Meta | undefined {
  if (buf.length < SLOT_BYTES || crc32(buf.subarray(4, SLOT_BYTES)) !== buf.readUInt32LE(0)) return undefined
  if (buf.readUInt32LE(4) !== MAGIC) return undefined
  const version = buf.readUInt16LE(8)
  if (version !== FORMAT_VERSION) {
    throw new StrataError(ErrorCode.UNSUPPORTED_FORMAT, `${location} has format version ${version}; this Strata reads version ${FORMAT_VERSION}`)
  }
  return {
    pageSize: buf.readUInt32LE(12),
    generation: readU64(buf, 16),
    checkpoint: readU64(buf, 24),
    checkpointSeq: readU64(buf, 32),
    segmentBytes: buf.readUInt32LE(40),
  }
}

/** Whether the folder `fs` holds a database, without writing anything: {@link MetaFile.exists}, for other packages. */
export function holdsDatabase(fs: FileSystem): boolean {
  return MetaFile.exists(fs)
}

/** The META file of an open database. */
export class MetaFile {
  readonly #file: BlockFile
  #current: Meta

  private constructor(
    file: BlockFile,
    current: Meta,
    /** The offset of a damaged slot, if one was found on open. */
    readonly damagedSlot?: number,
  ) {
    this.#file = file
    this.#current = current
  }

  /** Whether `fs` holds a database: a META file with at least one byte written. */
  static exists(fs: FileSystem): boolean {
    if (!fs.exists(META_FILE)) return false
    const file = fs.open(META_FILE)
    try {
      return file.size() > 0
    } finally {
      file.close()
    }
  }

  /** Reads the newest valid slot; LEVEL_CORRUPTION if neither is valid. */
  static open(fs: FileSystem): MetaFile {
    const file = fs.open(META_FILE)
    const bytes = file.read(0, META_FILE_BYTES, 'meta')
    let slots: (Meta | undefined)[]
    try {
      slots = SLOT_OFFSETS.map((offset) => decodeSlot(bytes.subarray(offset, offset + SLOT_BYTES), fs.location))
    } catch (error) {
      file.close()
      throw error
    }
    const best = slots.reduce<Meta | undefined>((a, b) => (b && (!a || b.generation > a.generation) ? b : a), undefined)
    if (!best) {
      file.close()
      throw new StrataError(ErrorCode.CORRUPTION, `no valid meta slot in ${fs.location}/${META_FILE} at offsets 0 or 512`)
    }
    // Past the first meta write both slots have been written, so an invalid one was damaged
    // (flipped, zeroed, cut off): it may have named a newer checkpoint than the one chosen.
    const damaged = best.generation >= 1 ? SLOT_OFFSETS.find((_, i) => slots[i] === undefined) : undefined
    return new MetaFile(file, best, damaged)
  }

  /** Writes the first meta of a new database, in one write that fills the whole file. */
  static async create(fs: FileSystem, meta: Meta): Promise<MetaFile> {
    const file = fs.open(META_FILE, { create: true })
    try {
      const bytes = Buffer.alloc(META_FILE_BYTES)
      encodeSlot(meta).copy(bytes, slotOffset(meta.generation))
      file.write(0, bytes, 'meta')
      await file.sync()
      await fs.syncDirectory()
    } catch (error) {
      file.close()
      throw error
    }
    return new MetaFile(file, meta)
  }

  get current(): Meta {
    return this.#current
  }

  /** Durably records a newer checkpoint in the slot not holding the current meta. */
  async update(checkpoint: number, checkpointSeq: number): Promise<void> {
    const next: Meta = { ...this.#current, generation: this.#current.generation + 1, checkpoint, checkpointSeq }
    this.#file.write(slotOffset(next.generation), encodeSlot(next), 'meta')
    await this.#file.sync()
    this.#current = next
  }

  /** Makes the META file as read durable (after a crash, what was read may never have been synced). */
  async sync(): Promise<void> {
    await this.#file.sync()
  }

  close(): void {
    this.#file.close()
  }
}
