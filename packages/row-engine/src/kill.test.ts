import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rowFactory } from '@strata/engine-factories'
import { killCampaign } from '@strata/testkit'
import { beforeAll, describe, expect, it } from 'vitest'

/** The package whose build the child process imports its factory from; building it builds this engine too. */
const factoriesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine-factories')

describe('RowEngine killed with SIGKILL', () => {
  beforeAll(() => {
    // The child process runs the built packages: bring dist up to date with the source under test.
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-b', factoriesDir], { stdio: 'inherit' })
  }, 120_000)

  it('keeps every acknowledged batch, and no batch in part, through 60 kills of a writing process', async () => {
    const report = await killCampaign(rowFactory, { kills: 60 })
    console.log(
      `RowEngine kill campaign: ${report.kills} kills (${report.killedOpening} while opening, ${report.killedWriting} while writing), ${report.acknowledged} batches acknowledged, ${report.inFlightKept} unacknowledged batches found whole, ${report.lockRefusals} opens refused with LEVEL_LOCKED; ${report.failures.length} failures`,
    )
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
