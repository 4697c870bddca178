/**
 * The benchmark suite's options: one table that both `pnpm bench` (node's parseArgs) and
 * `strata bench` (commander) are built from, so the two commands take the same options.
 */
import { tmpdir } from 'node:os'
import { parseArgs } from 'node:util'

/** The parts of the suite, in the order they run. */
export const PARTS = ['engine', 'level', 'snapshots', 'cow', 'study', 'peers', 'sustained', 'throughput', 'concurrency', 'ycsb', 'restart', 'clone'] as const

/** One part of the suite. */
export type PartName = (typeof PARTS)[number]

/** What `runSuite` is asked to do. */
export interface SuiteOptions {
  /** A smoke run of tiny databases (under two minutes): checks the harness, not the figures. */
  quick: boolean
  /** The folder for the JSON results; undefined: bench/results for a full run, a new temporary folder for a quick one. */
  out: string | undefined
  /** The folder in which the benchmarks make their databases. */
  dir: string
  /** The folder for the peer comparison's databases: a dedicated device gives a clean ruler. Default: `dir`. */
  peersDir: string | undefined
  /** The parts to run (all when undefined). */
  only: PartName[] | undefined
  /** Regenerate docs/benchmarks.md and its charts from the results; undefined: for a full run only. */
  docs: boolean | undefined
  /** The folder that receives benchmarks.md and img/; undefined: the repository's docs/. */
  docsDir: string | undefined
}

/** One option, as both command lines declare it. */
export interface SuiteOptionSpec {
  /** The long flag, without dashes. */
  flag: string
  /** The value's placeholder, or undefined for a switch. */
  value: string | undefined
  description: string
}

/** Every option of the suite, in the order help lists them. */
export const SUITE_OPTIONS: readonly SuiteOptionSpec[] = [
  { flag: 'quick', value: undefined, description: 'a smoke run on tiny databases, under two minutes (results go to a temporary folder, docs are left alone)' },
  { flag: 'out', value: 'folder', description: 'where the JSON results go (default: bench/results, or a temporary folder with --quick)' },
  { flag: 'dir', value: 'folder', description: 'where the databases are made (default: the OS temporary folder)' },
  { flag: 'peers-dir', value: 'folder', description: 'where the peer comparison and the sustained-writes part make their databases: a folder on a block device no other process writes to gives a clean ruler (default: --dir)' },
  { flag: 'only', value: 'parts', description: `run only these parts, comma-separated: ${PARTS.join(', ')}` },
  { flag: 'docs', value: undefined, description: 'regenerate docs/benchmarks.md and docs/img/*.svg from the results (the default for a full run)' },
  { flag: 'no-docs', value: undefined, description: 'leave the docs alone' },
  { flag: 'docs-dir', value: 'folder', description: 'where benchmarks.md and img/ go (default: the repository\'s docs/)' },
]

/** Checks a comma-separated list of parts; an unknown part is the caller's mistake. */
export function parseParts(text: string): PartName[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '')
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part)) throw new RangeError(`unknown part '${part}': the parts are ${PARTS.join(', ')}`)
  }
  return parts as PartName[]
}

/** The options named by command-line flags as both commands receive them (undefined where not given). */
export interface SuiteFlags {
  quick?: boolean | undefined
  out?: string | undefined
  dir?: string | undefined
  peersDir?: string | undefined
  only?: string | undefined
  docs?: boolean | undefined
  docsDir?: string | undefined
}

/** {@link SuiteOptions} from parsed flags, defaults filled in. */
export function suiteOptions(flags: SuiteFlags): SuiteOptions {
  return {
    quick: flags.quick === true,
    out: flags.out,
    dir: flags.dir ?? tmpdir(),
    peersDir: flags.peersDir,
    only: flags.only === undefined ? undefined : parseParts(flags.only),
    docs: flags.docs,
    docsDir: flags.docsDir,
  }
}

/** Parses `pnpm bench`'s arguments with node's parseArgs, from {@link SUITE_OPTIONS}. */
export function parseSuiteArgs(argv: string[]): SuiteOptions {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(SUITE_OPTIONS.map((o) => [o.flag, { type: o.value === undefined ? 'boolean' : 'string' }] as const)),
    strict: true,
  })
  const text = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined)
  if (values.docs === true && values['no-docs'] === true) throw new RangeError('--docs and --no-docs contradict each other')
  return suiteOptions({
    quick: values.quick === true,
    out: text('out'),
    dir: text('dir'),
    peersDir: text('peers-dir'),
    only: text('only'),
    docs: values.docs === true ? true : values['no-docs'] === true ? false : undefined,
    docsDir: text('docs-dir'),
  })
}
