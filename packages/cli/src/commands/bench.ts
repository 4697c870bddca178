import { SUITE_OPTIONS, type SuiteFlags, suiteOptions } from '@strata/bench/options'
import type { Command } from 'commander'
import { CliError, CliErrorCode } from '../cli-error.js'
import type { Output } from '../output.js'

/** The flags commander parsed, by its camel-cased names. */
interface BenchFlags {
  quick?: true
  out?: string
  dir?: string
  peersDir?: string
  only?: string
  docs?: boolean
  docsDir?: string
}

/**
 * Adds `strata bench`: runs the benchmark suite of the source tree (bench/) with the options
 * `pnpm bench` takes, from the same table. The suite is loaded only when the command runs, so the
 * other commands do not pay for the benchmarks' dependencies.
 */
export function addBenchCommand(program: Command, output: Output): void {
  const command = program
    .command('bench')
    .description('run the benchmark suite (write amplification of ROW and COW snapshots, Strata beside level, lmdb and memory-level, throughput) and regenerate docs/benchmarks.md')
  for (const option of SUITE_OPTIONS) command.option(`--${option.flag}${option.value ? ` <${option.value}>` : ''}`, option.description)
  command.action(async (flags: BenchFlags) => {
    let options: ReturnType<typeof suiteOptions>
    try {
      options = suiteOptions(flags satisfies SuiteFlags)
    } catch (error) {
      if (error instanceof RangeError) throw new CliError(CliErrorCode.USAGE, error.message)
      throw error
    }
    const { runSuite } = await import('@strata/bench')
    await runSuite(options, { log: (text) => void output.write(`${text}\n`), stderr: output.stderr as NodeJS.WriteStream }, ['strata bench', ...process.argv.slice(3)].join(' '))
  })
}
