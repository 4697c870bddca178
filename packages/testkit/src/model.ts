import type { Operation, Range } from '@strata/btree'
import { crc32 } from '@strata/storage'

/** The plainest possible key-value store: what every engine read is checked against. */
export class Model {
  readonly entries: Map<string, Buffer>

  constructor(entries?: Map<string, Buffer>) {
    this.entries = new Map(entries)
  }

  put(key: Buffer, value: Buffer): void {
    this.entries.set(key.toString('hex'), Buffer.from(value))
  }

  del(key: Buffer): void {
    this.entries.delete(key.toString('hex'))
  }

  /** Applies a batch, in order. */
  apply(ops: readonly Operation[]): void {
    for (const op of ops) op.type === 'del' ? this.del(op.key) : this.put(op.key, op.value)
  }

  get(key: Buffer): Buffer | undefined {
    return this.entries.get(key.toString('hex'))
  }

  clone(): Model {
    return new Model(this.entries)
  }

  /** Entries in byte order within `range`, as an engine cursor should return them. */
  range(range: Range = {}): [Buffer, Buffer][] {
    let out = [...this.entries]
      .map(([hex, value]): [Buffer, Buffer] => [Buffer.from(hex, 'hex'), value])
      .filter(([key]) => {
        if (range.gt && Buffer.compare(key, range.gt) <= 0) return false
        if (range.gte && Buffer.compare(key, range.gte) < 0) return false
        if (range.lt && Buffer.compare(key, range.lt) >= 0) return false
        if (range.lte && Buffer.compare(key, range.lte) > 0) return false
        return true
      })
      .sort((a, b) => Buffer.compare(a[0], b[0]))
    if (range.reverse) out.reverse()
    if (range.limit !== undefined && range.limit >= 0) out = out.slice(0, range.limit)
    return out
  }

  /** A stable text form, for comparing whole states (every value byte counts, through its checksum). */
  fingerprint(): string {
    return fingerprint(this.range())
  }
}

/** The fingerprint of these entries, in the order given: keys, value lengths and value checksums. */
export function fingerprint(entries: readonly [Buffer, Buffer][]): string {
  return entries.map(([k, v]) => `${k.toString('hex')}=${v.length}:${crc32(v).toString(16)}`).join(',')
}
