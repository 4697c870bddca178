import { MemoryFileSystem, type FileSystem } from '@strata/storage'
import { cloneCases } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

/** Small pages and checkpoint thresholds, so short runs reach every mechanism. */
const small = { pageSize: 512, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 } }

for (const store of ['shared', 'per-snapshot'] as const) {
  cloneCases(`CowEngine (${store})`, (fs: FileSystem) => CowEngine.open({ fs, store, ...small }))
}

describe('CowEngine clones copy', () => {
  it('copies every file, linking none, and the copies are not the source files', async () => {
    const fs = new MemoryFileSystem()
    const engine = await CowEngine.open({ fs, ...small })
    await engine.write(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })))
    await engine.createSnapshot('s')
    await engine.write([{ type: 'del', key: Buffer.from('k1') }])
    const target = new MemoryFileSystem()
    const result = await engine.clone(undefined, target, { snapshots: true })
    expect(result.linkedFiles).toBe(0)
    expect(result.copiedFiles).toBe(3)
    const pagesBytes = (fs.files.get('pages.db') as { length: number }).length
    expect(result.bytesWritten).toBeGreaterThanOrEqual(pagesBytes)
    for (const name of target.list()) expect(target.files.get(name)).not.toBe(fs.files.get(name))
    await engine.close()
  })
})
