import { cowFactories } from '@strata/engine-factories'
import { crashCampaign, describeTally, engineConformance, expectUnkind, runModel, snapshotCrashCampaign, steps } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

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
    it('recovers every acknowledged commit at every crash point of a disk as unkind as a real one, commits racing checkpoints', async () => {
      const report = await crashCampaign(factory, { commits: 200 })
      console.log(`${factory.name} crash campaign: ${report.commits} commits (${report.workload.concurrentCommits} issued before the one before resolved), ${report.points} crash points; ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
      expect(report.failures).toEqual([])
      expectUnkind(report.tally, 400)
      expect(report.workload.concurrentCommits).toBeGreaterThan(20)
    })

    it('recovers every acknowledged commit at every boundary with up to 32 writers in flight, grouped', async () => {
      const report = await crashCampaign(factory, { commits: 120, seed: 5, writers: 32 })
      console.log(`${factory.name} crash campaign, many writers: ${report.commits} commits (${report.workload.concurrentCommits} issued before the one before resolved, runs of up to ${report.workload.largestRun}), ${report.points} crash points; ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
      expect(report.failures).toEqual([])
      expectUnkind(report.tally, 300)
      expect(report.workload.largestRun).toBeGreaterThan(16)
    })
  })

  describe(`${factory.name} named snapshots under crashes`, () => {
    it('keeps every durable named snapshot, deletion and restore at every crash point of an unkind disk, operations racing each other', async () => {
      const report = await snapshotCrashCampaign(factory, { operations: 150 })
      console.log(`${factory.name} named-snapshot crash campaign: ${report.operations} operations (${report.concurrent} issued before the one before resolved); ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
      expect(report.failures.slice(0, 10)).toEqual([])
      expectUnkind(report.tally, 300)
    })
  })
}
