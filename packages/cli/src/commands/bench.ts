import type { SuiteFlags } from '@strata/bench/options'
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

/** The package `strata bench` runs: the workspace's private benchmark suite (bench/). */
export const BENCH_PACKAGE = '@strata/bench'

/**
 * What `strata bench` found where it looked for the benchmark suite: the suite's option table
 * (inside the Strata workspace); `missing` where `strata` was installed from npm, because the suite
 * and its peers (lmdb, classic-level, level) are not published; or the error that loading it gave.
 */
export type BenchSuite =
  | { readonly found: 'suite'; readonly specifier: string; readonly options: typeof import('@strata/bench/options') }
  | { readonly found: 'missing' }
  | { readonly found: 'error'; readonly error: unknown }

/**
 * Loads the suite's option table from `specifier` (a package with an `./options` export). Never
 * rejects: a failure other than a missing package is kept for `strata bench` to report, so that
 * it does not stop the other commands.
 */
export async function findBenchSuite(specifier: string = BENCH_PACKAGE): Promise<BenchSuite> {
  try {
    return { found: 'suite', specifier, options: (await import(`${specifier}/options`)) as typeof import('@strata/bench/options') }
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    // Node names the package (`'@strata/bench'`); vitest's loader names the module (`'@strata/bench/options'`).
    const names = [`'${specifier}'`, `'${specifier}/options'`]
    if (code === 'ERR_MODULE_NOT_FOUND' && names.some((name) => String(message).includes(name))) return { found: 'missing' }
    return { found: 'error', error }
  }
}

/** What `strata bench` says where the suite is missing; docs/errors.md §The `strata` command explains it. */
export const BENCH_UNAVAILABLE_MESSAGE =
  'the benchmark suite is not installed with the strata command: it runs in a clone of the Strata repository, where `node scripts/setup.mjs` installs it and `npx strata bench` (or `npm run bench`) runs it'

/**
 * Adds `strata bench`: runs the benchmark suite of the source tree (bench/) with the options
 * `pnpm bench` takes, from the same table. Where the suite is missing the command takes any
 * arguments and fails with STRATA_BENCH_UNAVAILABLE. The suite itself is loaded only when the
 * command runs, so the other commands do not pay for the benchmarks' dependencies.
 */
export function addBenchCommand(program: Command, output: Output, suite: BenchSuite): void {
  const command = program.command('bench')
  if (suite.found !== 'suite') {
    command
      .description(suite.found === 'missing' ? 'run the benchmark suite: in a clone of the Strata repository only' : 'run the benchmark suite (which failed to load)')
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw suite.found === 'missing' ? new CliError(CliErrorCode.BENCH_UNAVAILABLE, BENCH_UNAVAILABLE_MESSAGE) : suite.error
      })
    if (suite.found === 'missing') command.addHelpText('after', `\n${BENCH_UNAVAILABLE_MESSAGE}.\n`)
    return
  }
  const { SUITE_OPTIONS, suiteOptions } = suite.options
  command.description('run the benchmark suite (write amplification of ROW and COW snapshots, Strata beside level, lmdb and memory-level, throughput) and regenerate docs/benchmarks.md')
  for (const option of SUITE_OPTIONS) command.option(`--${option.flag}${option.value ? ` <${option.value}>` : ''}`, option.description)
  command.action(async (flags: BenchFlags) => {
    let options: ReturnType<typeof suiteOptions>
    try {
      options = suiteOptions(flags satisfies SuiteFlags)
    } catch (error) {
      if (error instanceof RangeError) throw new CliError(CliErrorCode.USAGE, error.message)
      throw error
    }
    const { runSuite } = (await import(suite.specifier)) as typeof import('@strata/bench')
    await runSuite(options, { log: (text) => void output.write(`${text}\n`), stderr: output.stderr as NodeJS.WriteStream }, ['strata bench', ...process.argv.slice(3)].join(' '))
  })
}
