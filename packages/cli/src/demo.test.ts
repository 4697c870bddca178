import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runDemo } from './demo.js'

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
})
