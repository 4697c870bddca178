import { segmentOf } from './address.js'

/** Bytes the head stopped using: a page or value record, when it was made and when superseded. */
export interface Free {
  address: number
  bytes: number
  /** The sequence number that made it (0 when unknown): pins older than this never reach it. */
  born: number
  /** The first sequence number whose state no longer uses it. */
  seq: number
}

/**
 * Which bytes of each segment are still needed, so that a segment can be removed once none are
 * (docs/architecture.md §Reclamation). Bytes the head stops using are freed in three steps:
 * *pending* until a checkpoint makes a tree without them durable; then *held* while a pin might
 * still read them; then gone. A pin at sequence s needs a free exactly when born ≤ s < seq, so a
 * long-lived snapshot holds only what existed when it was taken and changed since — not the churn
 * that came and went after it (LMDB and bbolt key their free lists by transaction id the same way).
 *
 * Each held free sits in the bucket of the youngest pin that needs it; releasing a pin looks only
 * at its own bucket, moving each free to the next pin that needs it, or letting it go.
 */
export class SpaceMap {
  /** Bytes per segment used by the durable head tree (pending frees still count here). */
  readonly live = new Map<number, number>()
  /** Bytes per segment freed from the head but kept for pins. */
  readonly held = new Map<number, number>()
  #pending = new Map<number, Free>()
  /** Frees a checkpoint in flight will make durable: taken from pending when it was laid out. */
  #committing = new Map<number, Free>()
  readonly #buckets = new Map<number, Map<number, Free>>()
  /** The bucket (pin) each held address is in. */
  readonly #heldIn = new Map<number, number>()
  readonly #pins = new Map<number, number>()
  /** Distinct pinned sequence numbers, ascending. */
  #pinned: number[] = []
  /** While a checkpoint beside the writes is under way ({@link freeze}): bytes used since its tree was frozen, by segment, which that tree does not use. */
  #usedSinceFreeze: Map<number, number> | undefined

  /** Counts `bytes` at `address` as used by the head. */
  use(address: number, bytes: number): void {
    add(this.live, segmentOf(address), bytes)
    if (this.#usedSinceFreeze) add(this.#usedSinceFreeze, segmentOf(address), bytes)
  }

  /**
   * A checkpoint beside the writes froze the head's state (checkpoint.ts): the frees so far are
   * the ones it will commit ({@link beginCommit}); what is used and freed from now on belongs to
   * later states, and waits for the next checkpoint.
   */
  freeze(): void {
    this.beginCommit()
    this.#usedSinceFreeze = new Map()
  }

  /** Counts a page the frozen tree uses, written by the checkpoint under way, as live (and in that checkpoint's space table). */
  useFrozen(address: number, bytes: number): void {
    add(this.live, segmentOf(address), bytes)
  }

  /** A free that the checkpoint laid out now commits, as those taken by `beginCommit`: a page it wrote that only named snapshots use. */
  freeCommitting(free: Free): void {
    this.#committing.set(free.address, free)
  }

  /**
   * Bytes per segment the frozen tree uses, for its checkpoint record: live, less the frees that
   * checkpoint commits and what was used since the freeze. Ends the freeze.
   */
  frozenLive(): Map<number, number> {
    const live = new Map(this.live)
    for (const f of this.#committing.values()) add(live, segmentOf(f.address), -f.bytes)
    for (const [segment, bytes] of this.#usedSinceFreeze ?? []) add(live, segment, -bytes)
    this.#usedSinceFreeze = undefined
    return live
  }

  /** The checkpoint under way since {@link freeze} was given up before it was laid out: its frees wait for the next one. */
  abandonFreeze(): void {
    for (const [address, f] of this.#committing) this.#pending.set(address, f)
    this.#committing = new Map()
    this.#usedSinceFreeze = undefined
  }

  /** The head stopped using these bytes from `free.seq` on. */
  free(free: Free): void {
    this.#pending.set(free.address, free)
  }

  /** Bytes freed and not yet released by a durable checkpoint, by segment (still counted in `live`). */
  pendingBySegment(): Map<number, number> {
    const out = new Map<number, number>()
    for (const f of this.#pending.values()) add(out, segmentOf(f.address), f.bytes)
    for (const f of this.#committing.values()) add(out, segmentOf(f.address), f.bytes)
    return out
  }

  /** A checkpoint was laid out without the pending frees: they commit when it is durable; later frees wait for the next. */
  beginCommit(): void {
    if (this.#committing.size > 0) throw new Error('strata: invariant broken: a checkpoint began while another was in flight')
    this.#committing = this.#pending
    this.#pending = new Map()
  }

  /** The checkpoint laid out by `beginCommit` is durable: release its frees, or hold them for pins. */
  commitFrees(): void {
    for (const f of this.#committing.values()) {
      add(this.live, segmentOf(f.address), -f.bytes)
      this.#hold(f)
    }
    this.#committing = new Map()
  }

  /**
   * The head uses `address` again (a restore brought back a state that used it): a pending free is
   * cancelled, a held one returns to the head. Returns false if nothing was freed there.
   */
  reuse(address: number): boolean {
    if (this.#committing.has(address)) throw new Error('strata: invariant broken: reuse during a checkpoint in flight')
    if (this.#pending.delete(address)) return true
    const pin = this.#heldIn.get(address)
    if (pin === undefined) return false
    const bucket = this.#buckets.get(pin) as Map<number, Free>
    const f = bucket.get(address) as Free
    bucket.delete(address)
    this.#heldIn.delete(address)
    add(this.held, segmentOf(address), -f.bytes)
    add(this.live, segmentOf(address), f.bytes)
    return true
  }

  pin(seq: number): void {
    const count = this.#pins.get(seq) ?? 0
    this.#pins.set(seq, count + 1)
    if (count === 0) this.#pinned.splice(upperIndex(this.#pinned, seq), 0, seq)
  }

  /** Drops one pin at `seq`; returns whether held bytes were released (segments may now be empty). */
  unpin(seq: number): boolean {
    const count = (this.#pins.get(seq) ?? 0) - 1
    if (count > 0) {
      this.#pins.set(seq, count)
      return false
    }
    this.#pins.delete(seq)
    this.#pinned.splice(upperIndex(this.#pinned, seq) - 1, 1)
    const bucket = this.#buckets.get(seq)
    if (!bucket) return false
    this.#buckets.delete(seq)
    let released = false
    for (const f of bucket.values()) {
      this.#heldIn.delete(f.address)
      add(this.held, segmentOf(f.address), -f.bytes)
      released = this.#hold(f) === undefined || released
    }
    return released
  }

  /** The pinned sequence numbers at or after `seq`, ascending: the pins that may share a page born at `seq`. */
  pinnedFrom(seq: number): number[] {
    return this.#pinned.slice(upperIndex(this.#pinned, seq - 1))
  }

  get pinCount(): number {
    let n = 0
    for (const count of this.#pins.values()) n += count
    return n
  }

  /**
   * Held frees that some pin in `seqs` needs: what must survive a restart for named snapshots.
   * Without `pending`, frees not yet taken by a checkpoint are left out: a checkpoint of a frozen
   * state, whose tree still uses them, leaves them to the replay of the batches that freed them.
   */
  heldFor(seqs: readonly number[], pending = true): Free[] {
    const sorted = [...seqs].sort((a, b) => a - b)
    const out: Free[] = []
    const needed = (f: Free) => {
      const i = upperIndex(sorted, f.seq - 1) - 1
      return i >= 0 && (sorted[i] as number) >= f.born
    }
    for (const bucket of this.#buckets.values()) for (const f of bucket.values()) if (needed(f)) out.push(f)
    if (pending) for (const f of this.#pending.values()) if (needed(f)) out.push(f)
    for (const f of this.#committing.values()) if (needed(f)) out.push(f)
    return out
  }

  /** Restores frees held for named snapshots, read back from a checkpoint (their pins come first). */
  restoreHeld(frees: readonly Free[]): void {
    for (const f of frees) this.#hold(f)
  }

  /** Bytes held for the pin at `seq` that no other pin needs, by segment. */
  exclusiveBySegment(seq: number): Map<number, number> {
    const out = new Map<number, number>()
    for (const f of this.#buckets.get(seq)?.values() ?? []) if (this.#youngestPin(f, seq) === undefined) add(out, segmentOf(f.address), f.bytes)
    return out
  }

  /** Whether nothing in `segment` is used by the head or held for a pin. */
  isEmpty(segment: number): boolean {
    return (this.live.get(segment) ?? 0) === 0 && (this.held.get(segment) ?? 0) === 0
  }

  /** Bytes used by the head across all segments. */
  liveBytes(): number {
    let total = 0
    for (const bytes of this.live.values()) total += bytes
    for (const f of this.#pending.values()) total -= f.bytes
    for (const f of this.#committing.values()) total -= f.bytes
    return total
  }

  /** Bytes held for pins across all segments. */
  heldBytes(): number {
    let total = 0
    for (const bytes of this.held.values()) total += bytes
    return total
  }

  /** Forgets a removed segment. */
  forget(segment: number): void {
    this.live.delete(segment)
    this.held.delete(segment)
  }

  /** Puts `f` in the bucket of the youngest pin that needs it; returns that pin, or undefined if none does. */
  #hold(f: Free): number | undefined {
    const pin = this.#youngestPin(f)
    if (pin === undefined) return undefined
    let bucket = this.#buckets.get(pin)
    if (!bucket) this.#buckets.set(pin, (bucket = new Map()))
    bucket.set(f.address, f)
    this.#heldIn.set(f.address, pin)
    add(this.held, segmentOf(f.address), f.bytes)
    return pin
  }

  /** The youngest pin s with born ≤ s < seq, leaving out `except`. */
  #youngestPin(f: Free, except?: number): number | undefined {
    for (let i = upperIndex(this.#pinned, f.seq - 1) - 1; i >= 0; i--) {
      const s = this.#pinned[i] as number
      if (s < f.born) return undefined
      if (s !== except) return s
    }
    return undefined
  }
}

/** Index of the first element > value in an ascending array. */
function upperIndex(sorted: readonly number[], value: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as number) <= value) lo = mid + 1
    else hi = mid
  }
  return lo
}

function add(map: Map<number, number>, key: number, delta: number): void {
  const value = (map.get(key) ?? 0) + delta
  if (value === 0) map.delete(key)
  else map.set(key, value)
}
