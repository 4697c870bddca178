import { rowFactory } from '@strata/engine-factories'
import { buildFactoriesFirst, describeKillReport, killCampaign } from '@strata/testkit'
import { describe, expect, it } from 'vitest'

describe('RowEngine killed with SIGKILL', () => {
  // The child process runs the built packages: bring dist up to date with the source under test.
  buildFactoriesFirst()

  it('keeps every acknowledged batch, and no batch in part, through 60 kills of a writing process', async () => {
    const report = await killCampaign(rowFactory, { kills: 60 })
    console.log(`RowEngine kill campaign: ${describeKillReport(report)}`)
    expect(report.failures).toEqual([])
    expect(report.kills).toBe(60)
    expect(report.acknowledged).toBeGreaterThan(report.kills)
  })

  it('keeps every acknowledged sync: false batch too, through 15 kills: the OS has its bytes', async () => {
    const report = await killCampaign(rowFactory, { kills: 15, seed: 2, unsynced: 0.8 })
    console.log(
      `RowEngine kill campaign with sync: false: ${report.kills} kills, ${report.acknowledged} batches acknowledged (${report.unsynced} with sync: false), ${report.inFlightKept} unacknowledged batches found whole; ${report.failures.length} failures`,
    )
    expect(report.failures).toEqual([])
    expect(report.kills).toBe(15)
    expect(report.unsynced).toBeGreaterThan(report.kills)
  })
})
