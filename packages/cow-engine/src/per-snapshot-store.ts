import type { BlockFile, FileSystem } from '@strata/storage'
import type { EpochRange } from './page-table.js'
import { decodeSavedValue, encodeSavedValue, type PreimageStore } from './preimage-store.js'
import type { CowSnapshot } from './snapshots.js'

/** One snapshot's store: an append-only file of page copies and values, with its index in memory. */
interface SnapshotFile {
  readonly name: string
  readonly file: BlockFile
  end: number
  /** Page number → offset of its copy. */
  readonly pages: Map<number, number>
  /** LSN → offset and framed length of the saved value. */
  readonly values: Map<number, { offset: number; bytes: number }>
}

/**
 * Classic LVM snapshots: each live snapshot has its own file, `snap-<id>.pre`, created at its
 * first copy, and gets its own copy of every page it needs. With k snapshots needing a page, its
 * first overwrite costs one read of the old page and k page writes. Releasing a snapshot deletes
 * its file.
 */
export class PerSnapshotStore implements PreimageStore {
  readonly mode = 'per-snapshot' as const
  readonly #fs: FileSystem
  readonly #pageSize: number
  readonly #files = new Map<number, SnapshotFile>()
  readonly #unsynced = new Set<SnapshotFile>()

  constructor(fs: FileSystem, pageSize: number) {
    this.#fs = fs
    this.#pageSize = pageSize
  }

  #fileOf(snapshot: CowSnapshot): SnapshotFile {
    let f = this.#files.get(snapshot.id)
    if (!f) {
      const name = `snap-${snapshot.id}.pre`
      f = { name, file: this.#fs.open(name, { create: true }), end: 0, pages: new Map(), values: new Map() }
      f.file.truncate(0)
      this.#files.set(snapshot.id, f)
    }
    return f
  }

  savePage(page: number, _range: EpochRange, slot: Buffer, snapshots: readonly CowSnapshot[]): void {
    for (const snapshot of snapshots) {
      const f = this.#fileOf(snapshot)
      if (f.pages.has(page)) continue
      f.file.write(f.end, slot, 'preimage')
      f.pages.set(page, f.end)
      f.end += slot.length
      this.#unsynced.add(f)
    }
  }

  saveValue(lsn: number, value: Buffer, snapshots: readonly CowSnapshot[]): void {
    const framed = encodeSavedValue(value)
    for (const snapshot of snapshots) {
      const f = this.#fileOf(snapshot)
      if (f.values.has(lsn)) continue
      f.file.write(f.end, framed, 'preimage')
      f.values.set(lsn, { offset: f.end, bytes: framed.length })
      f.end += framed.length
      this.#unsynced.add(f)
    }
  }

  async sync(): Promise<void> {
    const files = [...this.#unsynced]
    this.#unsynced.clear()
    for (const f of files) if (this.#files.get(idOf(f.name)) === f) await f.file.sync()
  }

  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined {
    const f = this.#files.get(snapshot.id)
    const offset = f?.pages.get(page)
    if (f === undefined || offset === undefined) return undefined
    return f.file.read(offset, this.#pageSize, 'page')
  }

  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined {
    const f = this.#files.get(snapshot.id)
    const at = f?.values.get(lsn)
    if (f === undefined || at === undefined) return undefined
    return decodeSavedValue(f.file.read(at.offset, at.bytes, 'value'), `${this.#fs.location}/${f.name}`, at.offset)
  }

  release(snapshot: CowSnapshot): void {
    const f = this.#files.get(snapshot.id)
    if (!f) return
    this.#files.delete(snapshot.id)
    this.#unsynced.delete(f)
    f.file.close()
    this.#fs.remove(f.name)
  }

  bytes(): number {
    let total = 0
    for (const f of this.#files.values()) total += f.end
    return total
  }

  bytesOf(snapshot: CowSnapshot): number {
    return this.#files.get(snapshot.id)?.end ?? 0
  }

  check(live: readonly CowSnapshot[]): string[] {
    const problems: string[] = []
    const ids = new Set(live.map((s) => s.id))
    for (const [id, f] of this.#files) {
      if (!ids.has(id)) problems.push(`pre-image file ${f.name} belongs to no live snapshot`)
      if (f.file.size() !== f.end) problems.push(`pre-image file ${f.name} is ${f.file.size()} bytes, its index covers ${f.end}`)
      let indexed = f.pages.size * this.#pageSize
      for (const v of f.values.values()) indexed += v.bytes
      if (indexed !== f.end) problems.push(`pre-image file ${f.name} holds ${f.end} bytes, its copies ${indexed}`)
    }
    return problems
  }

  close(): void {
    for (const f of this.#files.values()) {
      f.file.close()
      this.#fs.remove(f.name)
    }
    this.#files.clear()
    this.#unsynced.clear()
  }
}

function idOf(name: string): number {
  return Number(name.slice(5, -4))
}
