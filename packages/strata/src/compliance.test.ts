import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tape from 'tape'
import { describe, expect, it } from 'vitest'
import { StrataLevel } from './strata-level.js'

/** abstract-level's compliance suite: CommonJS without declarations, so it is typed here. */
type ComplianceSuite = (options: { test: unknown; factory: (options?: object) => unknown }) => void
const require = createRequire(import.meta.url)
const suite = require('abstract-level/test') as ComplianceSuite

/** One row of a tape harness's object stream. */
interface TapeRow {
  type: 'test' | 'assert' | 'end'
  ok?: boolean
  skip?: boolean | string
  todo?: boolean | string
  name?: string
  id?: number
  test?: number
  operator?: string
  actual?: unknown
  expected?: unknown
  error?: { stack?: string }
}

/** What a run of the suite found. */
interface SuiteResult {
  tests: number
  passed: number
  failed: string[]
  /** Skipped or todo assertions: the suite must run every one it holds. */
  notRun: number
}

/**
 * Runs abstract-level's whole suite through a private tape harness against `factory`, and
 * collects every assertion from the harness's object stream.
 */
function runSuite(factory: (options?: object) => unknown): Promise<SuiteResult> {
  const harness = tape.createHarness()
  const stream = harness.createStream({ objectMode: true })
  const result: SuiteResult = { tests: 0, passed: 0, failed: [], notRun: 0 }
  const names = new Map<number, string>()
  stream.on('data', (row: TapeRow) => {
    if (row.type === 'test' && row.id !== undefined) {
      result.tests++
      names.set(row.id, row.name ?? '')
    } else if (row.type === 'assert') {
      if (row.skip || row.todo) result.notRun++
      else if (row.ok) result.passed++
      else {
        const where = names.get(row.test ?? -1) ?? '?'
        result.failed.push(`${where} › ${row.name ?? row.operator}: expected ${String(row.expected)}, got ${String(row.actual)}${row.error?.stack ? `\n${row.error.stack}` : ''}`)
      }
    }
  })
  const finished = new Promise<SuiteResult>((resolve, reject) => {
    stream.on('end', () => resolve(result))
    stream.on('error', reject)
  })
  suite({ test: harness, factory })
  return finished
}

describe.each([
  ['row', {}],
  ['cow', { engine: 'cow' }],
] as const)('StrataLevel (%s engine) against abstract-level', (name, engineOptions) => {
  it('passes abstract-level’s own compliance suite in full, on disk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-compliance-'))
    let count = 0
    try {
      const result = await runSuite((options) => new StrataLevel(join(root, `db-${count++}`), { ...options, ...engineOptions }))
      console.log(
        `abstract-level compliance suite on StrataLevel (${name} engine): ${result.tests} tests, ${count} databases\n${result.passed} passed, ${result.failed.length} failed`,
      )
      expect(result.failed).toEqual([])
      expect(result.notRun).toBe(0)
      // memory-level passes 5,120; StrataLevel supports more (createIfMissing, errorIfExists, permanence).
      expect(result.passed).toBeGreaterThanOrEqual(5120)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
