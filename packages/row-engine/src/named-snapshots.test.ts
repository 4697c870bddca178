import { MemoryFileSystem } from '@strata/storage'
import { namedSnapshotCases, readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(7, '0')}`)
const small = { pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 16 * 1024, maxLogBytes: 64 * 1024 } }

describe('RowEngine named snapshots', () => {
  namedSnapshotCases('RowEngine', (fs, { small: isSmall }) => RowEngine.open({ fs, ...(isSmall ? small : {}) }))

  it('a long-lived snapshot holds only what it alone references, not the churn after it', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem(), ...small })
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 1) })))
    await engine.compact()
    const atSnapshot = engine.stats().fileBytes
    await engine.createSnapshot('kept')
    // Keys that come and go after the snapshot: none of their pages is the snapshot's.
    for (let round = 0; round < 40; round++) {
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(10_000 + round * 500 + i), value: Buffer.alloc(50, 2) })))
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'del' as const, key: key(10_000 + round * 500 + i) })))
    }
    await engine.compact()
    const after = engine.stats()
    const [kept] = engine.listSnapshots()
    // The snapshot keeps at most the old versions of the pages the churn rewrote: about one tree.
    expect(kept?.exclusiveBytes).toBeGreaterThan(0)
    expect(kept?.exclusiveBytes).toBeLessThan(1.5 * atSnapshot)
    expect(after.fileBytes).toBeLessThan(3 * atSnapshot)
    await engine.deleteSnapshot('kept')
    await engine.compact()
    expect(engine.stats().fileBytes).toBeLessThan(1.5 * atSnapshot)
    expect(engine.check()).toEqual([])
    await engine.close()
  })
})
