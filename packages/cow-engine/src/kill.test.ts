import { cowFactories } from '@strata/engine-factories'
import { buildFactoriesFirst, describeKillReport, killCampaign } from '@strata/testkit'
import { describe, expect, it } from 'vitest'

describe('CowEngine killed with SIGKILL', () => {
  // The child process runs the built packages: bring dist up to date with the source under test.
  buildFactoriesFirst()

  for (const factory of cowFactories) {
    it(`keeps every acknowledged batch, and no batch in part, through 30 kills of a writing process (${factory.name})`, async () => {
      const report = await killCampaign(factory, { kills: 30 })
      console.log(`${factory.name} kill campaign: ${describeKillReport(report)}`)
      expect(report.failures).toEqual([])
      expect(report.kills).toBe(30)
      expect(report.acknowledged).toBeGreaterThan(report.kills)
    })
  }
})
