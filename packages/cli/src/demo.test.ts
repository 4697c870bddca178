import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StrataLevel } from 'strata'
import { afterEach, describe, expect, it } from 'vitest'
import { runDemo } from './demo.js'
import { stateOf, strata } from './test-support.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('strata demo', () => {
  it('reports the totals of the snapshot while writes land, and runs again on the same folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'))
    folders.push(dir)
    const lines: string[] = []
    for (let run = 0; run < 2; run++) {
      const result = await runDemo({ dir, orders: 5000, concurrentWrites: 2000, out: (line) => lines.push(line) })
      expect(result.report).toEqual(result.atSnapshot)
      expect(result.head).not.toEqual(result.atSnapshot)
      expect(result.writesBeforeReportDone).toBeGreaterThan(0)
      expect(result.stats.io.writeAmplification).toBeGreaterThan(1)
    }
    expect(lines.join('\n')).toContain('the report equals the state at the snapshot')
    expect(lines.join('\n')).toMatch(/write amplification: \d+\.\d\d×/)
  })

  it.each(['row', 'cow'] as const)('refuses a folder holding a %s database it did not make, with status 13, changing nothing there', async (engine) => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-demo-'))
    folders.push(dir)
    const app = new StrataLevel(dir, { engine })
    await app.put('order:00000001', 'an order of the application')
    await app.close()
    const before = stateOf(dir)
    await expect(runDemo({ dir, orders: 100, concurrentWrites: 100, out: () => undefined })).rejects.toMatchObject({ code: 'STRATA_NOT_A_DEMO_DATABASE' })
    const run = await strata('demo', '--dir', dir, '--orders', '100', '--writes', '100')
    expect(run).toEqual({ status: 13, stdout: '', stderr: `strata: ${dir} holds a database the demo did not make, and the demo would change it: give --dir a new folder (STRATA_NOT_A_DEMO_DATABASE)\n` })
    expect(stateOf(dir)).toBe(before)
  })
})
