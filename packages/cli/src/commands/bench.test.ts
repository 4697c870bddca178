import { SUITE_OPTIONS } from '@strata/bench/options'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../program.js'
import { strata } from '../test-support.js'

/** Runs `strata args…` as it runs where the benchmark suite is not installed (strata from npm). */
async function strataWithoutSuite(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const text = { stdout: '', stderr: '' }
  const sink = (name: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        text[name] += chunk.toString()
        done()
      },
    })
  const status = await runCli(args, { stdout: sink('stdout'), stderr: sink('stderr') }, { benchPackage: '@strata/bench-not-installed' })
  return { status, ...text }
}

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

  it('says where it runs, with its own exit status, where the benchmark suite is not installed', async () => {
    const run = await strataWithoutSuite('bench', '--quick', '--only', 'speed')
    expect(run.status).toBe(14)
    expect(run.stderr).toContain('(STRATA_BENCH_UNAVAILABLE)')
    expect(run.stderr).toContain('clone of the Strata repository')
    expect(run.stdout).toBe('')
  })

  it('leaves the other commands working where the benchmark suite is not installed', async () => {
    const help = await strataWithoutSuite('--help')
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('bench')
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('run the benchmark suite: in a clone of the Strata repository only')
    expect((await strataWithoutSuite('info', '/nonexistent/strata-db')).status).toBe(3)
  })
})
