import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@strata/storage'
import { soak } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

describe('RowEngine soak', () => {
  it('keeps memory and files bounded through a few seconds of writes with 16 live snapshots, half of them named, reports and reclamation', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'strata-row-soak-'))
    try {
      // `pnpm test:soak` runs this for a minute and more on 20,000 keys, a snapshot every 40
      // batches, allowing 25 % growth; here the thirds are a second each, so the working set is
      // smaller, snapshots turn over faster, and 50 % is allowed.
      const report = await soak({
        folder,
        open: (fs) => RowEngine.open({ fs, segmentBytes: 1024 * 1024, checkpoint: { minLogBytes: 256 * 1024, maxLogBytes: 4 * 1024 * 1024 } }),
        fileSystem: (path) => new NodeFileSystem(path),
        seconds: 3,
        keys: 2000,
        snapshotEvery: 2,
        rssGrowth: 0.5,
        fileGrowth: 0.5,
      })
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
      console.log(
        `RowEngine soak (${report.seconds} s): ${report.batches} batches, ${report.snapshots.inProcess} in-process and ${report.snapshots.named} named snapshots, ${report.reports} reports (${report.reportEntries} entries), ${report.compactions} compactions, ${report.checkpoints} checkpoints; RSS ${mib(report.rss.middleMax)} → ${mib(report.rss.lastMax)}, files ${mib(report.fileBytes.middleMax)} → ${mib(report.fileBytes.lastMax)} (middle → last third); ${report.failures.length} failures`,
      )
      expect(report.failures).toEqual([])
      expect(report.snapshots.named).toBeGreaterThanOrEqual(8)
      expect(report.reports).toBeGreaterThan(0)
      expect(report.compactions).toBeGreaterThan(0)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
