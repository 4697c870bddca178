import type { SnapshotEngine } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { expect, it } from 'vitest'
import { readAll } from './engine-factory.js'

/** The least log (or WAL) an engine under {@link spacePolicyCases} may keep before it checkpoints: its `minLogBytes`. */
export const SPACE_POLICY_MIN_LOG = 16 * 1024

const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, '0')}`)
const value = (i: number, round: number) => Buffer.alloc(40, (i * 31 + round) % 251)

/** The space bound: the files may exceed it by what the named snapshots alone keep. */
function bound(engine: SnapshotEngine): number {
  const { liveBytes } = engine.stats()
  const kept = engine.listSnapshots().reduce((sum, s) => sum + s.exclusiveBytes, 0)
  return Math.max(1.5 * liveBytes, liveBytes + SPACE_POLICY_MIN_LOG) + kept
}

async function load(engine: SnapshotEngine, keys: number[]): Promise<void> {
  for (let at = 0; at < keys.length; at += 50) {
    await engine.write(keys.slice(at, at + 50).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, 0) })))
  }
}

const COLD = Array.from({ length: 3000 }, (_, i) => i)
const HOT = Array.from({ length: 200 }, (_, i) => 3000 + i)

/**
 * The space policy every engine keeps (docs/architecture.md §Reclamation, §COW checkpoint policy):
 * without any explicit compaction, the files stay within max(1.5 × live bytes, live bytes +
 * minLogBytes) plus what named snapshots alone keep. `open` opens the engine with 1 KiB pages and
 * checkpoints after {@link SPACE_POLICY_MIN_LOG} of log or more, the default shape scaled down
 * (the ROW engine with 64 KiB segments).
 */
export function spacePolicyCases(open: (fs: MemoryFileSystem) => Promise<SnapshotEngine>): void {
  it('keeps reclaiming while a named snapshot taken early holds pages, within the bound', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await load(engine, COLD)
    await load(engine, HOT)
    await engine.createSnapshot('early')
    const over: string[] = []
    let filesAtFifty = 0
    for (let round = 1; round <= 300; round++) {
      await engine.write(HOT.map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round) })))
      if (round === 50) filesAtFifty = engine.stats().fileBytes
      if (round > 50 && engine.stats().fileBytes > bound(engine)) over.push(`round ${round}: ${engine.stats().fileBytes} > ${Math.round(bound(engine))}`)
    }
    const stats = engine.stats()
    expect(stats.checkpoints).toBeGreaterThan(30)
    // The files stop growing once the run is under way: what the churn leaves is reclaimed.
    expect(stats.fileBytes).toBeLessThan(filesAtFifty + 64 * 1024)
    expect(over).toEqual([])
    const want = [...COLD, ...HOT].map((i): [Buffer, Buffer] => [key(i), value(i, i < 3000 ? 0 : 300)])
    expect(readAll(engine)).toEqual(want)
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('what a named snapshot is said to keep is what deleting it frees, within 64 KiB (a ROW segment)', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await load(engine, COLD)
    await engine.createSnapshot('safety')
    // Every key overwritten: every page and log record of the snapshot's time is the snapshot's alone.
    for (let round = 1; round <= 3; round++) {
      for (let at = 0; at < COLD.length; at += 50) {
        await engine.write(COLD.slice(at, at + 50).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round) })))
      }
    }
    await engine.compact()
    const [safety] = engine.listSnapshots()
    const before = engine.stats().fileBytes
    expect(safety?.exclusiveBytes).toBeGreaterThan(0)
    await engine.deleteSnapshot('safety')
    await engine.compact()
    const freed = before - engine.stats().fileBytes
    expect(Math.abs(freed - (safety?.exclusiveBytes ?? 0))).toBeLessThanOrEqual(64 * 1024)
    expect(engine.check()).toEqual([])
    await engine.close()
  })
}
