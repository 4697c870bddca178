import { shortSoak } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

for (const store of ['shared', 'per-snapshot'] as const) {
  describe(`CowEngine (${store}) soak`, () => {
    it('keeps memory and files bounded through a few seconds of writes with 16 live snapshots, reports and reclamation', async () => {
      const report = await shortSoak(`CowEngine (${store})`, (fs) => CowEngine.open({ fs, store, checkpoint: { minLogBytes: 256 * 1024, maxLogBytes: 4 * 1024 * 1024 } }))
      expect(report.snapshots.inProcess + report.snapshots.named).toBeGreaterThanOrEqual(16)
    })
  })
}
