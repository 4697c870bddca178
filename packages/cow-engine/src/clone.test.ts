import { cowFactories } from '@strata/engine-factories'
import { type FileSystem, MemoryFileSystem } from '@strata/storage'
import { cloneCases, cloneCrashCampaign, describeTally, expectUnkind } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

/** Small pages and checkpoint thresholds, so short runs reach every mechanism. */
const small = { pageSize: 512, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 } }

for (const store of ['shared', 'per-snapshot'] as const) {
  // Three model runs per store (six on ROW): COW clones copy every file, so each step costs more.
  cloneCases(`CowEngine (${store})`, (fs: FileSystem) => CowEngine.open({ fs, store, ...small }), { seeds: 3 })
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

for (const factory of cowFactories) {
  describe(`${factory.name} clones under crashes`, () => {
    it('a crash at any point of a clone leaves the source whole and the clone refused or whole, on an unkind disk', async () => {
      const report = await cloneCrashCampaign(factory, { clones: 4 })
      console.log(`${factory.name} clone crash campaign: ${report.clones} clones (${report.ofNamed} of a named snapshot, ${report.withSnapshots} keeping snapshots); clone folders: ${report.targetStates} crash states, ${report.opened} distinct disks opened as the whole clone, ${report.refused} refused; ${report.sourceStates} source states; ${describeTally(report.tally)}`)
      expect(report.failures.slice(0, 10)).toEqual([])
      expect(report.opened).toBeGreaterThan(0)
      expect(report.refused).toBeGreaterThan(0)
      expect(report.linked).toBe(0)
      expectUnkind(report.tally, 500)
    })
  })
}
