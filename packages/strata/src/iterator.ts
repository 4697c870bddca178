import type { Engine, EngineCursor } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import { AbstractIterator, type AbstractIteratorOptions, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level'
import { type ByteRange, type Encoded, type EncodedRange, fromEngine, fromOwned, isInRange, toByteRange, toBytes, wantsBytes } from './formats.js'
import { releaseSnapshot, retainSnapshot, type StrataSnapshot } from './snapshot.js'

/** The options abstract-level hands `_iterator`, `_keys` and `_values`: range bounds already encoded. */
export interface PrivateIteratorOptions extends EncodedRange {
  reverse: boolean
  /** Enforced by abstract-level itself (it counts what it yields), except in `_all`. */
  limit: number
  keys?: boolean
  values?: boolean
  keyEncoding: string
  valueEncoding?: string
  snapshot?: StrataSnapshot | null | undefined
}

/**
 * An engine cursor as abstract-level iterators need it. The engine cursor pins the state it
 * starts on (an implicit snapshot) or walks an explicit one, held until close. Two semantics
 * differ from the engine's and are settled here: the inclusive bound wins when both are given,
 * and a seek outside the range ends the iterator (the engine's cursor would restart the range).
 */
export class RangeCursor {
  readonly #cursor: EngineCursor | undefined
  readonly #range: ByteRange
  readonly #snapshot: StrataSnapshot | undefined
  /** Set by a seek outside the range; the next seek inside it clears it. */
  #outOfRange = false
  #closed = false

  constructor(engine: Engine, options: PrivateIteratorOptions) {
    this.#range = toByteRange(options)
    if (options.snapshot === undefined || options.snapshot === null) {
      this.#cursor = engine.iterate(this.#range)
      return
    }
    // A snapshot closed before the iterator was made: abstract-level rejects every read on it
    // with LEVEL_SNAPSHOT_NOT_OPEN before it reaches here, so no cursor is needed.
    const pinned = retainSnapshot(options.snapshot, engine)
    if (pinned === undefined) return
    this.#snapshot = options.snapshot
    this.#cursor = engine.iterate(this.#range, pinned)
  }

  /** The next entry, owned by the engine, or undefined at the end of the range. */
  next(): [Buffer, Buffer] | undefined {
    if (this.#cursor === undefined) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'the snapshot of this iterator is closed')
    if (this.#outOfRange) return undefined
    return this.#cursor.next()
  }

  /** Up to `size` next entries, copies the reader owns; none past the range. */
  nextCopies(size: number): [Buffer, Buffer][] {
    if (this.#cursor === undefined) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'the snapshot of this iterator is closed')
    if (this.#outOfRange) return []
    return this.#cursor.nextCopies(size)
  }

  /** Moves to the first key at or after `target` (at or before, in reverse); outside the range, to the end. */
  seek(target: Encoded): void {
    const key = toBytes(target)
    this.#outOfRange = !isInRange(this.#range, key)
    if (!this.#outOfRange) this.#cursor?.seek(key)
  }

  /** Unpins the state the cursor walked. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#cursor?.close()
    if (this.#snapshot) releaseSnapshot(this.#snapshot)
  }
}

/** How an iterator turns entries into what it yields. */
interface Take<T> {
  /** From an entry the engine owns: bytes handed out are copied one by one. */
  engine: (entry: [Buffer, Buffer]) => T
  /** From an entry that is already the reader's copy; set when a format hands out bytes. */
  owned: ((entry: [Buffer, Buffer]) => T) | undefined
}

/** The {@link Take} for these formats (undefined: not yielded), shaped by `make`. */
function take<T>(keyFormat: string | undefined, valueFormat: string | undefined, make: (key: Encoded | undefined, value: Encoded | undefined) => T): Take<T> {
  const convert =
    (from: (bytes: Buffer, format: string) => Encoded) =>
    ([key, value]: [Buffer, Buffer]): T =>
      make(keyFormat === undefined ? undefined : from(key, keyFormat), valueFormat === undefined ? undefined : from(value, valueFormat))
  return { engine: convert(fromEngine), owned: wantsBytes(keyFormat) || wantsBytes(valueFormat) ? convert(fromOwned) : undefined }
}

/**
 * Reads up to `size` entries (all that remain when `size` is Infinity), mapped by `take`. Where
 * bytes are handed out, the engine copies the entries in bulk.
 */
function collect<T>(cursor: RangeCursor, size: number, take: Take<T>): T[] {
  if (take.owned) return cursor.nextCopies(size).map(take.owned)
  const out: T[] = []
  while (out.length < size) {
    const entry = cursor.next()
    if (entry === undefined) break
    out.push(take.engine(entry))
  }
  return out
}

/** The most entries `_next` reads ahead at once. */
const READ_AHEAD_MAX = 256

/**
 * Entries read ahead of `_next`, so that a `for await` loop over an iterator pays for copies in
 * bulk as `nextv` does. Each refill reads twice as many as the last, from 1 up to
 * {@link READ_AHEAD_MAX}, and never more than the iterator's limit leaves room for: a short read
 * stays short. The cursor walks a pinned state, so what was read ahead is what a later read would
 * have found; a seek drops it.
 */
class ReadAhead<T> {
  #ahead: T[] = []
  #at = 0
  #size = 1

  constructor(
    private readonly cursor: RangeCursor,
    private readonly take: Take<T>,
  ) {}

  /** The next item, reading up to `room` items ahead when none is left; undefined at the end. */
  next(room: number): T | undefined {
    if (this.#at === this.#ahead.length) {
      this.#ahead = collect(this.cursor, Math.max(1, Math.min(this.#size, room)), this.take)
      this.#at = 0
      this.#size = Math.min(2 * this.#size, READ_AHEAD_MAX)
    }
    return this.#at < this.#ahead.length ? this.#ahead[this.#at++] : undefined
  }

  /** Up to `size` items (all that remain when `size` is Infinity), those read ahead first. */
  many(size: number): T[] {
    const out = this.#ahead.slice(this.#at, this.#at + size)
    this.#at += out.length
    return out.length < size ? out.concat(collect(this.cursor, size - out.length, this.take)) : out
  }

  /** Drops what was read ahead: the cursor moves. */
  reset(): void {
    this.#ahead = []
    this.#at = 0
    this.#size = 1
  }
}

/** The options object as abstract-level's declarations name it; the same object, with its symbols. */
const asPublic = (options: PrivateIteratorOptions) => options as unknown as AbstractIteratorOptions<Encoded, Encoded>

/** `db.iterator()`: entries, each key and value a copy the caller owns. */
export class StrataIterator<TDatabase> extends AbstractIterator<TDatabase, Encoded, Encoded> {
  readonly #cursor: RangeCursor
  readonly #reader: ReadAhead<[Encoded | undefined, Encoded | undefined]>

  constructor(db: TDatabase, engine: Engine, options: PrivateIteratorOptions) {
    // The cursor first: a snapshot of another database throws before the iterator attaches to db.
    const cursor = new RangeCursor(engine, options)
    super(db, asPublic(options))
    this.#cursor = cursor
    const keyFormat = options.keys === false ? undefined : options.keyEncoding
    const valueFormat = options.values === false ? undefined : options.valueEncoding
    this.#reader = new ReadAhead(cursor, take(keyFormat, valueFormat, (key, value) => [key, value]))
  }

  async _next(): Promise<[Encoded | undefined, Encoded | undefined] | undefined> {
    return this.#reader.next(this.limit - this.count)
  }

  async _nextv(size: number): Promise<[Encoded | undefined, Encoded | undefined][]> {
    return this.#reader.many(size)
  }

  async _all(): Promise<[Encoded | undefined, Encoded | undefined][]> {
    return this.#reader.many(this.limit - this.count)
  }

  _seek(target: Encoded): void {
    this.#reader.reset()
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}

/** `db.keys()`: keys, each a copy the caller owns. */
export class StrataKeyIterator<TDatabase> extends AbstractKeyIterator<TDatabase, Encoded> {
  readonly #cursor: RangeCursor
  readonly #reader: ReadAhead<Encoded>

  constructor(db: TDatabase, engine: Engine, options: PrivateIteratorOptions) {
    // The cursor first: a snapshot of another database throws before the iterator attaches to db.
    const cursor = new RangeCursor(engine, options)
    super(db, asPublic(options))
    this.#cursor = cursor
    const format = options.keyEncoding
    this.#reader = new ReadAhead(cursor, take(format, undefined, (key) => key as Encoded))
  }

  async _next(): Promise<Encoded | undefined> {
    return this.#reader.next(this.limit - this.count)
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return this.#reader.many(size)
  }

  async _all(): Promise<Encoded[]> {
    return this.#reader.many(this.limit - this.count)
  }

  _seek(target: Encoded): void {
    this.#reader.reset()
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}

/** `db.values()`: values, each a copy the caller owns. */
export class StrataValueIterator<TDatabase> extends AbstractValueIterator<TDatabase, Encoded, Encoded> {
  readonly #cursor: RangeCursor
  readonly #reader: ReadAhead<Encoded>

  constructor(db: TDatabase, engine: Engine, options: PrivateIteratorOptions) {
    // The cursor first: a snapshot of another database throws before the iterator attaches to db.
    const cursor = new RangeCursor(engine, options)
    super(db, asPublic(options))
    this.#cursor = cursor
    const format = options.valueEncoding ?? 'buffer'
    this.#reader = new ReadAhead(cursor, take(undefined, format, (_, value) => value as Encoded))
  }

  async _next(): Promise<Encoded | undefined> {
    return this.#reader.next(this.limit - this.count)
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return this.#reader.many(size)
  }

  async _all(): Promise<Encoded[]> {
    return this.#reader.many(this.limit - this.count)
  }

  _seek(target: Encoded): void {
    this.#reader.reset()
    this.#cursor.seek(target)
  }

  async _close(): Promise<void> {
    this.#cursor.close()
  }
}
