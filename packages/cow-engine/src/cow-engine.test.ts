import { crashCampaign, type EngineFactory, engineConformance, runModel, steps } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'
import type { StoreMode } from './preimage-store.js'

/** Small pages and checkpoint thresholds make short tests reach splits, checkpoints, reuse and pre-images. */
export function cowFactory(store: StoreMode): EngineFactory {
  return {
    name: `CowEngine (${store})`,
    open: (fs, options = {}) =>
      CowEngine.open({
        fs,
        store,
        ...(options.small ? { pageSize: 512, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 } } : {}),
        ...(options.createIfMissing === undefined ? {} : { createIfMissing: options.createIfMissing }),
        ...(options.errorIfExists === undefined ? {} : { errorIfExists: options.errorIfExists }),
      }),
  }
}

for (const store of ['per-snapshot', 'shared'] as const) {
  const factory = cowFactory(store)

  engineConformance(factory)

  describe(`${factory.name} against the model`, () => {
    it('agrees with the model over 1,000 random runs', async () => {
      await fc.assert(
        fc.asyncProperty(steps, (run) => runModel(factory, run)),
        { numRuns: 1000 },
      )
    })
  })

  describe(`${factory.name} crash recovery`, () => {
    it('recovers every acknowledged commit at every write/sync boundary', async () => {
      const report = await crashCampaign(factory, { commits: 200 })
      console.log(`${factory.name} crash campaign: ${report.commits} commits, ${report.points} crash points, ${report.states.drop} dropped-write states and ${report.states.torn} torn-write states checked`)
      expect(report.failures).toEqual([])
      expect(report.states.drop + report.states.torn).toBeGreaterThan(400)
    })
  })
}
