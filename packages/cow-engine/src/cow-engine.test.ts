import { crashCampaign, engineConformance, runModel, snapshotCrashCampaign, steps } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cowFactories } from './cow-factory.js'

for (const factory of cowFactories) {
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

  describe(`${factory.name} named snapshots under crashes`, () => {
    it('keeps every durable named snapshot, deletion and restore at every write/sync boundary', async () => {
      const report = await snapshotCrashCampaign(factory, { operations: 150 })
      console.log(`${factory.name} named-snapshot crash campaign: ${report.operations} operations, ${report.states.drop} dropped-write and ${report.states.torn} torn-write states checked`)
      expect(report.failures.slice(0, 10)).toEqual([])
      expect(report.states.drop + report.states.torn).toBeGreaterThan(300)
    })
  })
}
