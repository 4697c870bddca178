import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Engine } from '@strata/btree'
import { type FileSystem, NodeFileSystem } from '@strata/storage'
import { expect } from 'vitest'
import { type SoakReport, soak } from './soak.js'

/**
 * The soak every engine's tests run, a few seconds long (`pnpm test:soak` runs the long one, on
 * 20,000 keys, a snapshot every 40 batches, allowing 25 % growth): here the thirds are 1⅓ s
 * each, so the working set is smaller, snapshots turn over faster, and 50 % growth is allowed.
 * (The files of a ROW database still rise for about 1.2 s after the first checkpoints, while
 * cleaning catches up with the snapshots' turnover: thirds of a second let that rise fall in the
 * middle third and compare it with the peaks after it.)
 * Logs the report under `name` and fails on any failure, or if no report or compaction ran; the
 * caller asserts what its engine promises of snapshots.
 */
export async function shortSoak(name: string, open: (fs: FileSystem) => Promise<Engine>): Promise<SoakReport> {
  const folder = mkdtempSync(join(tmpdir(), 'strata-soak-'))
  try {
    const report = await soak({ folder, open, fileSystem: (path) => new NodeFileSystem(path), seconds: 4, keys: 2000, snapshotEvery: 2, rssGrowth: 0.5, fileGrowth: 0.5 })
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    console.log(
      `${name} soak (${report.seconds} s): ${report.batches} batches, ${report.snapshots.inProcess} in-process and ${report.snapshots.named} named snapshots, ${report.reports} reports (${report.reportEntries} entries), ${report.compactions} compactions, ${report.checkpoints} checkpoints; RSS ${mib(report.rss.middleMax)} → ${mib(report.rss.lastMax)}, files ${mib(report.fileBytes.middleMax)} → ${mib(report.fileBytes.lastMax)} (middle → last third); ${report.failures.length} failures`,
    )
    expect(report.failures).toEqual([])
    expect(report.reports).toBeGreaterThan(0)
    expect(report.compactions).toBeGreaterThan(0)
    return report
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}
