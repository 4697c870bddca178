import { shortSoak } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

describe('RowEngine soak', () => {
  it('keeps memory and files bounded through a few seconds of writes with 16 live snapshots, half of them named, reports and reclamation', async () => {
    const report = await shortSoak('RowEngine', (fs) =>
      RowEngine.open({ fs, segmentBytes: 1024 * 1024, checkpoint: { minLogBytes: 256 * 1024, maxLogBytes: 4 * 1024 * 1024 } }),
    )
    expect(report.snapshots.named).toBeGreaterThanOrEqual(8)
  })
})
