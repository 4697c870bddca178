import { crashCampaign } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { rowFactory } from './row-factory.js'

describe('RowEngine crash states', () => {
  it('recovers every acknowledged commit at every crash point of a rich workload', async () => {
    const t = performance.now()
    const report = await crashCampaign(rowFactory, { commits: 200, seed: 7 })
    console.log(JSON.stringify({ ...report, failures: report.failures.slice(0, 5), nFail: report.failures.length }, null, 1), performance.now() - t)
    expect(report.failures).toEqual([])
  })
})
