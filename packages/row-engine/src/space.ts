import { segmentOf } from './address.js'

interface Free {
  segment: number
  bytes: number
  /** The first sequence number whose state no longer uses the bytes. */
  seq: number
}

/**
 * Which bytes of each segment are still needed, so that a segment can be removed once none are
 * (docs/architecture.md §Reclamation). A page or value the head stops using is freed in three
 * steps: *pending* until a checkpoint makes a tree without it durable; then *held* while a pinned
 * snapshot older than the free might still read it; then gone. A pin at sequence s needs a free
 * at sequence t exactly when s < t (as LMDB and bbolt key their free lists by transaction id).
 */
export class SpaceMap {
  /** Bytes per segment used by the durable head tree (pending frees still count here). */
  readonly live = new Map<number, number>()
  /** Bytes per segment freed from the head but kept for pinned snapshots. */
  readonly held = new Map<number, number>()
  #pending: Free[] = []
  #heldList: Free[] = []
  /** Pinned sequence numbers, with how many pins each. */
  readonly #pins = new Map<number, number>()
  #oldestPin: number | undefined

  /** Counts `bytes` at `address` as used by the head. */
  use(address: number, bytes: number): void {
    add(this.live, segmentOf(address), bytes)
  }

  /** The head stopped using `bytes` at `address` from sequence `seq` on. */
  free(address: number, bytes: number, seq: number): void {
    this.#pending.push({ segment: segmentOf(address), bytes, seq })
  }

  /** Bytes freed since the last checkpoint, by segment: what the next checkpoint's table leaves out. */
  pendingBySegment(): Map<number, number> {
    const out = new Map<number, number>()
    for (const f of this.#pending) add(out, f.segment, f.bytes)
    return out
  }

  /** A checkpoint without the pending frees is durable: release them, or hold them for pins. */
  commitFrees(): void {
    for (const f of this.#pending) {
      add(this.live, f.segment, -f.bytes)
      if (this.#isNeeded(f.seq)) {
        add(this.held, f.segment, f.bytes)
        this.#heldList.push(f)
      }
    }
    this.#pending = []
  }

  pin(seq: number): void {
    this.#pins.set(seq, (this.#pins.get(seq) ?? 0) + 1)
    if (this.#oldestPin === undefined || seq < this.#oldestPin) this.#oldestPin = seq
  }

  /** Drops one pin at `seq`; returns whether held bytes were released (segments may now be empty). */
  unpin(seq: number): boolean {
    const count = (this.#pins.get(seq) ?? 0) - 1
    if (count > 0) {
      this.#pins.set(seq, count)
      return false
    }
    this.#pins.delete(seq)
    if (seq !== this.#oldestPin) return false
    this.#oldestPin = undefined
    for (const pinned of this.#pins.keys()) if (this.#oldestPin === undefined || pinned < this.#oldestPin) this.#oldestPin = pinned
    // Held frees are in sequence order, so the ones no pin needs any more are at the front.
    let released = 0
    while (released < this.#heldList.length && !this.#isNeeded((this.#heldList[released] as Free).seq)) {
      const f = this.#heldList[released] as Free
      add(this.held, f.segment, -f.bytes)
      released++
    }
    if (released > 0) this.#heldList = this.#heldList.slice(released)
    return released > 0
  }

  get pinCount(): number {
    let n = 0
    for (const count of this.#pins.values()) n += count
    return n
  }

  /** Whether nothing in `segment` is used by the head or held for a pin. */
  isEmpty(segment: number): boolean {
    return (this.live.get(segment) ?? 0) === 0 && (this.held.get(segment) ?? 0) === 0
  }

  /** Bytes used by the head across all segments. */
  liveBytes(): number {
    let total = 0
    for (const bytes of this.live.values()) total += bytes
    for (const f of this.#pending) total -= f.bytes
    return total
  }

  /** Forgets a removed segment. */
  forget(segment: number): void {
    this.live.delete(segment)
    this.held.delete(segment)
  }

  #isNeeded(seq: number): boolean {
    return this.#oldestPin !== undefined && this.#oldestPin < seq
  }
}

function add(map: Map<number, number>, key: number, delta: number): void {
  const value = (map.get(key) ?? 0) + delta
  if (value === 0) map.delete(key)
  else map.set(key, value)
}
