import { type LoggedOperation, OPERATION_KEY_OFFSET, operationAt, putsOutOfLine } from './batch-record.js'

/** Operations a run holds at most: their sort keys pack an operation's index into 21 bits. */
export const REPLAY_RUN_OPERATIONS = 2 ** 21
/** What a sort key's digit is multiplied by to leave room for an operation's index below it. */
const INDEX_SPAN = REPLAY_RUN_OPERATIONS

/**
 * Replayed batches gathered to go into the tree as one (docs/architecture.md §Replay): applied in
 * key order, each leaf on their path is loaded and changed once per run instead of once per batch,
 * and consecutive operations find their path in the CPU's caches. Within a key the operations keep
 * the log's order, so the last write to a key still wins.
 *
 * A run copies each batch's payload into one buffer it reuses (fresh memory costs a page fault
 * per page on first touch), and keeps per operation numbers only (where, which batch): no object
 * per operation lives long enough for the collector to trace it.
 */
export class ReplayRun {
  /** The batches' payloads, one after another: a run copies them here, and reuses it once drained. */
  readonly #held: Buffer
  #heldBytes = 0
  #starts: number[] = []
  #seqs: number[] = []
  #bytes = 0
  #batches = 0

  /** A run that holds up to `capacity` bytes of payloads. */
  constructor(capacity: number) {
    this.#held = Buffer.allocUnsafeSlow(capacity)
  }

  /** Log bytes of the batches gathered. */
  get bytes(): number {
    return this.#bytes
  }

  /** Batches gathered. */
  get batches(): number {
    return this.#batches
  }

  /** Operations gathered. */
  get size(): number {
    return this.#starts.length
  }

  /** Whether a batch of `count` operations in a payload of `payloadBytes` fits in the run beside what it holds. */
  fits(payloadBytes: number, count: number): boolean {
    return this.#heldBytes + payloadBytes <= this.#held.length && this.#starts.length + count <= REPLAY_RUN_OPERATIONS
  }

  /**
   * Adds batch `seq`, `bytes` of log, whose operations start at `offsets` in `payload`
   * (`outlineBatch` checked it): the run copies the payload, which may be a log scan's buffer.
   * Throws a RangeError if it does not fit (see {@link fits}; a batch larger than the run never does).
   */
  add(seq: number, payload: Buffer, offsets: readonly number[], bytes: number): void {
    if (!this.fits(payload.length, offsets.length)) throw new RangeError('the batch does not fit in the replay run')
    const base = this.#heldBytes
    payload.copy(this.#held, base)
    this.#heldBytes += payload.length
    for (const at of offsets) {
      this.#starts.push(base + at)
      this.#seqs.push(seq)
    }
    this.#bytes += bytes
    this.#batches++
  }

  /**
   * Calls `apply` with the operations gathered, in key order, each with its batch's sequence
   * number, and empties the run. An operation that a later one in the run to the same key
   * overwrites is passed over, unless it puts a value kept out of line: the state after the run is
   * the same, and the space accounting of each VALUE record sees its put and its overwrite.
   */
  drain(apply: (op: LoggedOperation, seq: number) => void): void {
    const held = this.#held
    const starts = this.#starts
    const seqs = this.#seqs
    this.#heldBytes = 0
    this.#starts = []
    this.#seqs = []
    this.#bytes = 0
    this.#batches = 0
    const order = keyOrder(held, starts)
    for (let k = 0; k < order.length; k++) {
      const at = starts[order[k] as number] as number
      const next = k + 1 < order.length ? (starts[order[k + 1] as number] as number) : -1
      if (next >= 0 && !putsOutOfLine(held, at) && sameKey(held, at, next)) continue
      apply(operationAt(held, at), seqs[order[k] as number] as number)
    }
  }
}

/** Whether the operations at `a` and `b` of a checked payload have the same key. */
function sameKey(held: Buffer, a: number, b: number): boolean {
  const length = held.readUInt16LE(a + OPERATION_KEY_OFFSET - 2)
  if (held.readUInt16LE(b + OPERATION_KEY_OFFSET - 2) !== length) return false
  for (let j = OPERATION_KEY_OFFSET; j < OPERATION_KEY_OFFSET + length; j++) if (held[a + j] !== held[b + j]) return false
  return true
}

/** Bytes of batch payloads a replay run holds at most: bounds the memory a replay holds besides the tree. */
export const REPLAY_RUN_BYTES = 16 * 1024 * 1024

/** What {@link ReplayRuns} applies batches to: an engine's head as it recovers. */
export interface ReplayTarget {
  /** Applies a run as one state at `seq`, its last batch's: `each` yields the operations in key order, each with its batch's sequence number. */
  applyRun(seq: number, each: (apply: (op: LoggedOperation, batchSeq: number) => void) => void): void
  /** Applies batch `seq`, too large for a run, on its own. */
  applyBatch(seq: number, ops: LoggedOperation[]): void
  /** `batches` batches, `bytes` of log, were applied. */
  applied(batches: number, bytes: number): void
}

/**
 * A replay's batches, gathered into runs and applied to `target` a run at a time (docs/architecture.md
 * §Replay): a run is applied when the next batch does not fit, when the caller flushes (before a record
 * that must see the state before it, and at the end), and a batch larger than a run goes in alone.
 */
export class ReplayRuns {
  readonly #run: ReplayRun
  #last = 0

  /** Runs for a replay of at most `logBytes` of log (a run is no larger: fresh memory costs a page fault per page). */
  constructor(
    logBytes: number,
    readonly target: ReplayTarget,
  ) {
    this.#run = new ReplayRun(Math.min(REPLAY_RUN_BYTES, logBytes))
  }

  /** Adds batch `seq`, `bytes` of log, whose operations start at `offsets` in `payload` (`outlineBatch` checked it; it is copied). */
  add(seq: number, payload: Buffer, offsets: number[], bytes: number): void {
    if (!this.#run.fits(payload.length, offsets.length)) this.flush()
    if (this.#run.fits(payload.length, offsets.length)) {
      this.#run.add(seq, payload, offsets, bytes)
      this.#last = seq
      return
    }
    this.target.applyBatch(seq, offsets.map((at) => operationAt(payload, at)))
    this.target.applied(1, bytes)
  }

  /** Applies the batches gathered. */
  flush(): void {
    // A run may hold batches without operations (written by versions before empty batches were dropped).
    const batches = this.#run.batches
    if (batches === 0) return
    const bytes = this.#run.bytes
    this.target.applyRun(this.#last, (apply) => this.#run.drain(apply))
    this.target.applied(batches, bytes)
  }
}

/** Groups that tie on their sort keys up to this size are ordered by comparing their keys; larger ones by the next bytes' sort keys. */
const COMPARE_BELOW = 32

/**
 * The operations' indexes in key order, ties in index order: a most-significant-digit radix sort
 * whose digits are native sorts of numbers. From the prefix a group's keys share on, each sort key is
 * three key bytes (zeros past the key's end), then how many bytes the key has from there (up to 4),
 * then the index: keys that tie with bytes left are ordered by the next three bytes, and keys that
 * tie having ended are equal, in index order.
 */
function keyOrder(held: Buffer, starts: number[]): Int32Array {
  const n = starts.length
  const keyStart = (i: number): number => (starts[i] as number) + OPERATION_KEY_OFFSET
  const keyLength = (i: number): number => held.readUInt16LE((starts[i] as number) + OPERATION_KEY_OFFSET - 2)
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const compareFrom = (offset: number) => (x: number, y: number): number => {
    const a = keyStart(x)
    const b = keyStart(y)
    const al = keyLength(x)
    const bl = keyLength(y)
    const limit = Math.min(al, bl)
    for (let j = offset; j < limit; j++) {
      const d = (held[a + j] as number) - (held[b + j] as number)
      if (d !== 0) return d
    }
    return al - bl || x - y
  }
  // How many bytes the keys of order[from, to) share, `offset` of them known to.
  const sharedFrom = (from: number, to: number, offset: number): number => {
    const first = keyStart(order[from] as number)
    let shared = keyLength(order[from] as number)
    for (let k = from + 1; k < to && shared > offset; k++) {
      const other = keyStart(order[k] as number)
      const limit = Math.min(shared, keyLength(order[k] as number))
      let j = offset
      while (j < limit && held[first + j] === held[other + j]) j++
      shared = j
    }
    return Math.max(offset, shared)
  }
  // Sorts order[from, to) by the key bytes from `known` on (the bytes before it tie), starting
  // past the bytes they all share.
  const sortGroup = (from: number, to: number, known: number): void => {
    const offset = sharedFrom(from, to, known)
    const sortKeys = new Float64Array(to - from)
    for (let k = from; k < to; k++) {
      const i = order[k] as number
      const start = keyStart(i) + offset
      const left = keyLength(i) - offset
      let digit = 0
      for (let j = 0; j < 3; j++) digit = digit * 256 + (j < left ? (held[start + j] as number) : 0)
      digit = digit * 256 + Math.max(0, Math.min(left, 4))
      sortKeys[k - from] = digit * INDEX_SPAN + i
    }
    sortKeys.sort()
    for (let k = from; k < to; k++) order[k] = (sortKeys[k - from] as number) % INDEX_SPAN
    for (let g = 0; g < sortKeys.length; ) {
      const digit = Math.floor((sortKeys[g] as number) / INDEX_SPAN)
      let h = g + 1
      while (h < sortKeys.length && Math.floor((sortKeys[h] as number) / INDEX_SPAN) === digit) h++
      // A tie with bytes left (4 in the digit's last place): the next bytes decide.
      if (h - g > 1 && digit % 256 === 4) {
        if (h - g < COMPARE_BELOW) order.subarray(from + g, from + h).sort(compareFrom(offset + 3))
        else sortGroup(from + g, from + h, offset + 3)
      }
      g = h
    }
  }
  if (n > 0) sortGroup(0, n, 0)
  return order
}
