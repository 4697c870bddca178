import { type LoggedOperation, OPERATION_KEY_OFFSET, operationAt } from './batch-record.js'

/** Operations a run holds at most: their sort keys pack an operation's index into 21 bits. */
export const REPLAY_RUN_OPERATIONS = 2 ** 21
const INDEX_BITS = 2 ** 21

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

  /** A run that holds up to `capacity` bytes of payloads. */
  constructor(capacity: number) {
    this.#held = Buffer.allocUnsafeSlow(capacity)
  }

  /** Log bytes of the batches gathered. */
  get bytes(): number {
    return this.#bytes
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
  }

  /** Calls `apply` with each operation gathered, in key order, and its batch's sequence number; empties the run. */
  drain(apply: (op: LoggedOperation, seq: number) => void): void {
    const held = this.#held
    const starts = this.#starts
    const seqs = this.#seqs
    this.#heldBytes = 0
    this.#starts = []
    this.#seqs = []
    this.#bytes = 0
    for (const i of keyOrder(held, starts)) apply(operationAt(held, starts[i] as number), seqs[i] as number)
  }
}

/**
 * The operations' indexes in key order, ties in index order. A native sort of numbers does most
 * of the work: each sort key is the four key bytes after the prefix every key shares, above the
 * index; only operations whose four bytes tie are then compared whole.
 */
function keyOrder(held: Buffer, starts: number[]): Int32Array {
  const n = starts.length
  const keyStart = (i: number): number => (starts[i] as number) + OPERATION_KEY_OFFSET
  const keyLength = (i: number): number => held.readUInt16LE((starts[i] as number) + OPERATION_KEY_OFFSET - 2)
  let shared = n === 0 ? 0 : keyLength(0)
  for (let i = 1; i < n && shared > 0; i++) {
    const a = keyStart(0)
    const b = keyStart(i)
    const limit = Math.min(shared, keyLength(i))
    let j = 0
    while (j < limit && held[a + j] === held[b + j]) j++
    shared = j
  }
  const sortKeys = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const start = keyStart(i) + shared
    const end = keyStart(i) + keyLength(i)
    let word = 0
    for (let j = 0; j < 4; j++) word = word * 256 + (start + j < end ? (held[start + j] as number) : 0)
    sortKeys[i] = word * INDEX_BITS + i
  }
  sortKeys.sort()
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = (sortKeys[i] as number) % INDEX_BITS
  // Keys whose four bytes tie: whole keys decide, then the index.
  const compare = (x: number, y: number): number => {
    const a = keyStart(x)
    const b = keyStart(y)
    const al = keyLength(x)
    const bl = keyLength(y)
    const limit = Math.min(al, bl)
    for (let j = shared; j < limit; j++) {
      const d = (held[a + j] as number) - (held[b + j] as number)
      if (d !== 0) return d
    }
    return al - bl || x - y
  }
  for (let from = 0; from < n; ) {
    const word = Math.floor((sortKeys[from] as number) / INDEX_BITS)
    let to = from + 1
    while (to < n && Math.floor((sortKeys[to] as number) / INDEX_BITS) === word) to++
    if (to - from > 1) order.subarray(from, to).sort(compare)
    from = to
  }
  return order
}
