/**
 * Out-of-line value addresses (docs/format.md §COW addresses) are of two kinds, told apart by
 * range:
 *
 * - below 2^52: the number of the first page of an overflow chain in pages.db, where a checkpoint
 *   put the value;
 * - at or above 2^52: 2^52 + the LSN of a VALUE record in the WAL, where a commit put the value
 *   and where it stays until the next checkpoint moves it to a chain.
 *
 * LSNs (log sequence numbers) count every byte ever appended to the WAL, across resets, so a WAL
 * address never names two records. They stay exact below 2^52 bytes (4 PiB) of WAL traffic.
 */
export const WAL_VALUE_BASE = 2 ** 52

/** Whether an out-of-line value's address names a VALUE record in the WAL. */
export function isWalValue(address: number): boolean {
  return address >= WAL_VALUE_BASE
}

/** The value address of the VALUE record at `lsn`. */
export function walValueAddress(lsn: number): number {
  return WAL_VALUE_BASE + lsn
}

/** The LSN a WAL value address names. */
export function lsnOf(address: number): number {
  return address - WAL_VALUE_BASE
}

/** A VALUE record of the current WAL generation, and which batches could see it. */
export interface LoggedValue {
  lsn: number
  length: number
  /** The batch that wrote it: snapshots at this sequence number or later may read it. */
  seq: number
  /** The batch whose state no longer holds it (an overwrite or delete); undefined while the head holds it. */
  removedSeq?: number
}

/**
 * The large values that live in the WAL, and where they went when the WAL was reset
 * (docs/architecture.md §Large values). A commit writes a large value as a VALUE record and the
 * leaf refers to it by LSN. The next checkpoint moves every value the head still holds into an
 * overflow chain and points the head's leaf at it; a snapshot that kept an older copy of that leaf
 * still names the LSN, so the move is remembered here for as long as such a snapshot lives. Values
 * the head dropped before the checkpoint are copied to the pre-image store of each snapshot that
 * can see them, since resetting the WAL overwrites them.
 */
export class WalValues {
  readonly #current = new Map<number, LoggedValue>()
  /** LSNs of earlier generations whose value moved to a chain: the chain's first page, and the epoch of the snapshots that may name the LSN. */
  readonly #moved = new Map<number, { page: number; epoch: number }>()

  /** A commit (or replay) logged a value at `lsn` in batch `seq`. */
  logged(lsn: number, length: number, seq: number): void {
    this.#current.set(lsn, { lsn, length, seq })
  }

  /** Batch `seq` replaced or deleted the value at `lsn`. */
  removed(lsn: number, seq: number): void {
    const value = this.#current.get(lsn)
    if (value) value.removedSeq = seq
  }

  /** Whether the value at `lsn` is of this generation and still held by the head. */
  holds(lsn: number): boolean {
    const value = this.#current.get(lsn)
    return value !== undefined && value.removedSeq === undefined
  }

  /** The values of this generation that the head no longer holds. */
  dropped(): LoggedValue[] {
    return [...this.#current.values()].filter((v) => v.removedSeq !== undefined)
  }

  /** The head's value at `lsn` moved to the chain at `page`; snapshots of `epoch` may still name the LSN. */
  moved(lsn: number, page: number, epoch: number): void {
    this.#moved.set(lsn, { page, epoch })
  }

  /** The chain a moved LSN's value went to, if it moved. */
  movedTo(lsn: number): number | undefined {
    return this.#moved.get(lsn)?.page
  }

  /** The WAL was reset: its values are gone from it (moved or saved). */
  resetGeneration(): void {
    this.#current.clear()
  }

  /** Forgets moves no live snapshot can need: those of epochs before the oldest live snapshot's. */
  prune(oldestEpoch: number | undefined): void {
    for (const [lsn, move] of this.#moved) if (oldestEpoch === undefined || move.epoch < oldestEpoch) this.#moved.delete(lsn)
  }

  /** How many values of this generation are logged. */
  get count(): number {
    return this.#current.size
  }
}
