import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cowFactories } from '@strata/engine-factories'
import { killCampaign } from '@strata/testkit'
import { beforeAll, describe, expect, it } from 'vitest'

/** The package whose build the child process imports its factory from; building it builds this engine too. */
const factoriesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine-factories')

describe('CowEngine killed with SIGKILL', () => {
  beforeAll(() => {
    // The child process runs the built packages: bring dist up to date with the source under test.
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-b', factoriesDir], { stdio: 'inherit' })
  }, 120_000)

  for (const factory of cowFactories) {
    it(`keeps every acknowledged batch, and no batch in part, through 30 kills of a writing process (${factory.name})`, async () => {
      const report = await killCampaign(factory, { kills: 30 })
      console.log(
        `${factory.name} kill campaign: ${report.kills} kills (${report.killedOpening} while opening, ${report.killedWriting} while writing), ${report.acknowledged} batches acknowledged, ${report.inFlightKept} unacknowledged batches found whole, ${report.lockRefusals} opens refused with LEVEL_LOCKED; ${report.failures.length} failures`,
      )
      expect(report.failures).toEqual([])
      expect(report.kills).toBe(30)
      expect(report.acknowledged).toBeGreaterThan(report.kills)
    })
  }
})
