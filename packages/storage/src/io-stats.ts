/** What a stored byte is for; every read and write is counted under one purpose. */
export type Purpose =
  | 'log' // commit-log records (batches of user operations)
  | 'page' // B+tree pages written at a checkpoint or in place
  | 'value' // out-of-line values
  | 'meta' // meta slots, checkpoint records, snapshot catalogue
  | 'reclaim' // pages and values copied by reclamation or compaction
  | 'preimage' // copy-before-write pre-images of pages

/** The purposes, in reporting order. */
export const PURPOSES: readonly Purpose[] = ['log', 'page', 'value', 'meta', 'reclaim', 'preimage']

function zeroes(): Record<Purpose, number> {
  return { log: 0, page: 0, value: 0, meta: 0, reclaim: 0, preimage: 0 }
}

/** A plain copy of the counters, for reports and JSON. */
export interface IoReport {
  /** Key and value bytes of the batches the user wrote (the denominator of write amplification). */
  userBytes: number
  bytesWritten: Record<Purpose, number>
  bytesRead: Record<Purpose, number>
  totalWritten: number
  totalRead: number
  writes: number
  reads: number
  syncs: number
  /** All bytes written ÷ user bytes (0 before the first write). */
  writeAmplification: number
}

/** I/O accounting: every byte the storage layer moves, by purpose. The benchmark's ruler. */
export class IoStats {
  userBytes = 0
  readonly bytesWritten = zeroes()
  readonly bytesRead = zeroes()
  writes = 0
  reads = 0
  syncs = 0

  countWrite(purpose: Purpose, bytes: number): void {
    this.bytesWritten[purpose] += bytes
    this.writes++
  }

  /** Moves `bytes` already counted as written under `from` to `to` (for one write that served two purposes). */
  reassign(from: Purpose, to: Purpose, bytes: number): void {
    this.bytesWritten[from] -= bytes
    this.bytesWritten[to] += bytes
  }

  countRead(purpose: Purpose, bytes: number): void {
    this.bytesRead[purpose] += bytes
    this.reads++
  }

  countSync(): void {
    this.syncs++
  }

  countUser(bytes: number): void {
    this.userBytes += bytes
  }

  /** Zeroes every counter, so a benchmark can measure one phase. */
  reset(): void {
    this.userBytes = this.writes = this.reads = this.syncs = 0
    Object.assign(this.bytesWritten, zeroes())
    Object.assign(this.bytesRead, zeroes())
  }

  report(): IoReport {
    const totalWritten = PURPOSES.reduce((sum, p) => sum + this.bytesWritten[p], 0)
    const totalRead = PURPOSES.reduce((sum, p) => sum + this.bytesRead[p], 0)
    return {
      userBytes: this.userBytes,
      bytesWritten: { ...this.bytesWritten },
      bytesRead: { ...this.bytesRead },
      totalWritten,
      totalRead,
      writes: this.writes,
      reads: this.reads,
      syncs: this.syncs,
      writeAmplification: this.userBytes === 0 ? 0 : totalWritten / this.userBytes,
    }
  }
}
