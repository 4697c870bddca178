import { SUITE_OPTIONS } from '@strata/bench/options'
import { describe, expect, it } from 'vitest'
import { strata } from '../test-support.js'

describe('strata bench', () => {
  it('takes the options pnpm bench takes, from the same table', async () => {
    const run = await strata('bench', '--help')
    expect(run.status).toBe(0)
    for (const option of SUITE_OPTIONS) expect(run.stdout).toContain(`--${option.flag}${option.value ? ` <${option.value}>` : ''}`)
  })

  it('refuses an unknown part as a usage error, before running anything', async () => {
    const run = await strata('bench', '--only', 'engine,speed')
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("unknown part 'speed'")
    expect(run.stderr).toContain('(STRATA_USAGE)')
    expect(run.stdout).toBe('')
  })
})
