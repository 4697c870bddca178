/**
 * Runs the benchmark suite: each part in a process of its own, with a progress bar on a terminal,
 * then (for a full run) the docs and charts regenerated from the results. What `pnpm bench` and
 * `strata bench` both call.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MultiBar, Presets } from 'cli-progress'
import { renderDocs } from './docs-page.js'
import { isProgressMessage } from './progress.js'
import { runRecord, writeJson } from './result-file.js'
import { PART_SPECS, type PartSpec } from './suite-parts.js'
import { PARTS, type SuiteOptions } from './suite-options.js'

/** The bench package's folder (the same whether this runs from src/ or dist/). */
export const BENCH_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The repository's root. */
export const REPO_ROOT = resolve(BENCH_ROOT, '..')

/** How long one part took. */
export interface PartRecord {
  name: string
  seconds: number
  /** The results file it wrote. */
  result: string
}

/** What a suite run did, as suite.json records it. */
export interface SuiteRecord {
  benchmark: 'suite'
  date: string
  node: string
  machine: string
  quick: boolean
  /** The command line that ran the suite. */
  command: string
  parts: PartRecord[]
  seconds: number
}

/** What {@link runSuite} returns. */
export interface SuiteReport extends SuiteRecord {
  /** The folder holding the results. */
  resultsDir: string
  /** The markdown page written, if the docs were regenerated. */
  docs: string | undefined
}

/** Where the suite prints: part output and notes on `log`, progress on a terminal `stderr`. */
export interface SuiteOutput {
  log(text: string): void
  stderr: NodeJS.WriteStream
}

const CONSOLE: SuiteOutput = { log: (text) => console.log(text), stderr: process.stderr }

/** The node flags every part runs with: garbage collection on demand, and room for a million keys in four stores. */
const PART_FLAGS = ['--expose-gc', '--max-old-space-size=8192']

/** Shows progress: bars on a terminal, one line per part anywhere else. */
class SuiteProgress {
  readonly #bars: MultiBar | undefined
  readonly #overall: ReturnType<MultiBar['create']> | undefined
  #part: ReturnType<MultiBar['create']> | undefined
  readonly #out: SuiteOutput

  constructor(parts: number, out: SuiteOutput) {
    this.#out = out
    if (!out.stderr.isTTY) return
    this.#bars = new MultiBar(
      { format: '{label} [{bar}] {value}/{total} | {eta_formatted} left', barsize: 24, hideCursor: true, clearOnComplete: false, stream: out.stderr, etaBuffer: 50 },
      Presets.shades_classic,
    )
    this.#overall = this.#bars.create(parts, 0, { label: 'suite: parts'.padEnd(34) })
  }

  /** A part starts. */
  start(spec: PartSpec): void {
    if (!this.#bars) this.#out.log(`▶ ${spec.name}: ${spec.title}`)
    this.#part = this.#bars?.create(1, 0, { label: spec.name.padEnd(34) })
  }

  /** The running part reports a stage and how far it has got in it. */
  update(label: string, done: number, total: number): void {
    this.#part?.setTotal(Math.max(1, total))
    this.#part?.update(done, { label: label.slice(0, 34).padEnd(34) })
  }

  /** Prints `text` above the bars. */
  log(text: string): void {
    if (this.#bars) this.#bars.log(`${text.endsWith('\n') ? text : `${text}\n`}`)
    else this.#out.log(text)
  }

  /** A part ended. */
  finish(spec: PartSpec, seconds: number): void {
    if (this.#part) this.#bars?.remove(this.#part)
    this.#part = undefined
    this.#overall?.increment()
    this.log(`✔ ${spec.name} in ${seconds.toFixed(0)} s`)
  }

  stop(): void {
    this.#bars?.stop()
  }
}

/** Runs one part's script to the end; its standard output is printed when it is done. */
function runPart(spec: PartSpec, options: SuiteOptions, out: string, progress: SuiteProgress): Promise<void> {
  return new Promise((done, fail) => {
    const child: ChildProcess = fork(join(BENCH_ROOT, 'dist', spec.script), spec.args(options, out), {
      cwd: REPO_ROOT,
      execArgv: PART_FLAGS,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('message', (message) => {
      if (isProgressMessage(message)) progress.update(message.label, message.done, message.total)
    })
    child.on('error', fail)
    child.on('exit', (code, signal) => {
      // benny announces each suite it starts; the tables that follow say the same.
      const text = stdout.replace(/^.*Running ".*" suite\.\.\.\s*$/gm, '').replace(/\n{3,}/g, '\n\n').trim()
      if (text) progress.log(text)
      if (code === 0) done()
      else fail(new Error(`benchmark part '${spec.name}' failed (${signal ?? `exit ${code}`}):\n${stderr.trim().split('\n').slice(-20).join('\n')}`))
    })
  })
}

/**
 * Runs the suite as `options` say:
 * 1. Pick the results folder: bench/results for a full run, a new temporary one for a quick run.
 * 2. Run each part in its own process, showing progress, stopping at the first that fails.
 * 3. Record the run in suite.json.
 * 4. For a full run (or when asked), regenerate docs/benchmarks.md and the charts from the results.
 */
export async function runSuite(options: SuiteOptions, out: SuiteOutput = CONSOLE, command = commandLine()): Promise<SuiteReport> {
  // 1. Where the results go.
  const resultsDir = resolve(options.out ?? (options.quick ? mkdtempSync(join(tmpdir(), 'strata-bench-quick-')) : join(BENCH_ROOT, 'results')))
  const parts = PART_SPECS.filter((p) => (options.only ?? PARTS).includes(p.name))
  out.log(`Strata benchmark suite${options.quick ? ' (quick smoke run)' : ''}: ${parts.map((p) => p.name).join(', ')}; results in ${resultsDir}`)
  // 2. The parts.
  const started = Date.now()
  const progress = new SuiteProgress(parts.length, out)
  const records: PartRecord[] = []
  try {
    for (const spec of parts) {
      progress.start(spec)
      const partStarted = Date.now()
      await runPart(spec, options, resultsDir, progress)
      const seconds = (Date.now() - partStarted) / 1000
      records.push({ name: spec.name, seconds, result: spec.result })
      progress.finish(spec, seconds)
    }
  } finally {
    progress.stop()
  }
  // 3. The record of the run.
  const { date, node, machine, quick } = runRecord(options.quick)
  const record: SuiteRecord = { benchmark: 'suite', date, node, machine, quick, command, parts: records, seconds: (Date.now() - started) / 1000 }
  writeJson(join(resultsDir, 'suite.json'), record)
  out.log(`suite done in ${(record.seconds / 60).toFixed(1)} min`)
  // 4. The docs.
  let docs: string | undefined
  if (options.docs ?? !options.quick) {
    docs = await renderDocs({ resultsDir, docsDir: resolve(options.docsDir ?? join(REPO_ROOT, 'docs')) })
    out.log(`wrote ${docs} and its charts`)
  }
  return { ...record, resultsDir, docs }
}

/** How this process was started, for the record: `strata bench --quick`, `node …/suite.js`. */
function commandLine(): string {
  const script = process.argv[1] ?? ''
  const name = script.endsWith('bin.js') ? 'strata' : `node ${script}`
  return [name, ...process.argv.slice(2)].join(' ')
}
