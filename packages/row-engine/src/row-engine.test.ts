import { rowFactory } from '@strata/engine-factories'
import { MemoryFileSystem } from '@strata/storage'
import { crashCampaign, describeTally, engineConformance, expectUnkind, runModel, snapshotCrashCampaign, steps } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

engineConformance(rowFactory)

describe('RowEngine against the model', () => {
  it('agrees with the model over 1,000 random runs', async () => {
    await fc.assert(
      fc.asyncProperty(steps, (run) => runModel(rowFactory, run)),
      { numRuns: 1000 },
    )
  })
})

describe('RowEngine crash recovery', () => {
  it('recovers every acknowledged commit at every write/sync boundary', async () => {
    const report = await crashCampaign(rowFactory, { commits: 200 })
    console.log(`RowEngine crash campaign: ${report.commits} commits (${report.workload.concurrentCommits} issued before the one before resolved), ${report.points} crash points; ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
    expect(report.failures).toEqual([])
    expectUnkind(report.tally, 400)
    expect(report.workload.concurrentCommits).toBeGreaterThan(20)
  })

  it('recovers every acknowledged commit at every boundary with up to 32 writers in flight, grouped', async () => {
    const report = await crashCampaign(rowFactory, { commits: 160, seed: 5, writers: 32 })
    console.log(`RowEngine crash campaign, many writers: ${report.commits} commits (${report.workload.concurrentCommits} issued before the one before resolved, runs of up to ${report.workload.largestRun}), ${report.points} crash points; ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
    expect(report.failures).toEqual([])
    expectUnkind(report.tally, 300)
    expect(report.workload.largestRun).toBeGreaterThan(16)
  })
})

describe('RowEngine named snapshots under crashes', () => {
  it('keeps every durable named snapshot, deletion and restore at every crash point of an unkind disk, operations racing each other', async () => {
    const report = await snapshotCrashCampaign(rowFactory, { operations: 150 })
    console.log(`RowEngine named-snapshot crash campaign: ${report.operations} operations (${report.concurrent} issued before the one before resolved); ${describeTally(report.tally)}; ${report.recoveries} distinct disks opened`)
    expect(report.failures).toEqual([])
    expectUnkind(report.tally, 300)
  })
})

describe('RowEngine checkpoint policy', () => {
  it('rejects a threshold that is not a positive number, and turns that are not whole pages, with a RangeError', async () => {
    for (const checkpoint of [{ ratio: 0 }, { minLogBytes: -1 }, { maxLogBytes: Number.NaN }, { maxReplayMs: 0 }, { slicePages: 0 }, { slicePages: 1.5 }]) {
      await expect(RowEngine.open({ fs: new MemoryFileSystem(), checkpoint })).rejects.toThrow(RangeError)
    }
    const engine = await RowEngine.open({ fs: new MemoryFileSystem(), checkpoint: { slicePages: 1 } })
    expect(engine.check()).toEqual([])
    await engine.close()
  })
})
