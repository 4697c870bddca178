import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StudyResults } from './amplification-study.js'
import { CLIENT_STORES, CONCURRENCY_CELLS } from './clients.js'
import type { ConcurrencyResults } from './concurrency.js'
import type { EngineResults, LevelResults } from './docs-engine.js'
import type { CowBenchResults } from './docs-study.js'
import type { PeerResults } from './peer-amplification.js'
import type { SustainedResults } from './sustained.js'
import { readJson } from './result-file.js'
import { BENCH_ROOT, runSuite, type SuiteReport } from './run-suite.js'
import { CRITERIA, claimFigures, growsLinearly, rowIgnoresK, sharedStaysFlat } from './study-claims.js'
import { SNAPSHOT_SWEEP_BATCH } from './study-plan.js'
import { PARTS } from './suite-options.js'
import type { ThroughputResults } from './throughput.js'
import { OPERATIONS, THROUGHPUT_STORES } from './throughput-stores.js'
import type { YcsbResults } from './ycsb.js'
import { RESTART_STORES, type RestartResults } from './restart-results.js'
import { CLONE_METHODS, CLONED_STATES, type CloneResults, medianBytes } from './clone-results.js'
import { cloneRun, withinOneSegment } from './docs-clone.js'
import { YCSB_WORKLOADS } from './ycsb-workloads.js'

/** Standard error for the suite, as a pipe rather than a terminal: no progress bars in the test's output. */
const quietStderr = Object.assign(
  new Writable({
    write(_chunk, _encoding, done) {
      done()
    },
  }),
  { isTTY: false },
) as unknown as NodeJS.WriteStream

const out = mkdtempSync(join(tmpdir(), 'strata-bench-test-'))
const docs = mkdtempSync(join(tmpdir(), 'strata-bench-docs-'))
let report: SuiteReport

beforeAll(async () => {
  if (!existsSync(join(BENCH_ROOT, 'dist', 'suite.js'))) throw new Error('bench/dist is missing: build with `npx tsc -b` before running this test')
  report = await runSuite({ quick: true, out, dir: tmpdir(), peersDir: undefined, only: undefined, docs: true, docsDir: docs }, { log: () => {}, stderr: quietStderr }, 'vitest')
}, 240_000)

afterAll(() => {
  rmSync(out, { recursive: true, force: true })
  rmSync(docs, { recursive: true, force: true })
})

describe('the benchmark suite in quick mode', () => {
  it('runs every part and records each', () => {
    expect(report.parts.map((p) => p.name)).toEqual([...PARTS])
    for (const part of report.parts) expect(existsSync(join(out, part.result))).toBe(true)
    expect(readJson<{ quick: boolean }>(join(out, 'suite.json')).quick).toBe(true)
  })

  it('counts at least every byte the user wrote, in every study cell', () => {
    const study = readJson<StudyResults>(join(out, 'study.json'))
    expect(study.cells.length).toBeGreaterThan(100)
    for (const cell of study.cells) {
      expect(cell.writeAmplification).toBeGreaterThanOrEqual(1)
      expect(cell.spaceAmplification).toBeGreaterThan(0)
      expect(cell.bytesWritten).toBe(Object.values(cell.bytesWrittenBy).reduce((a, b) => a + b, 0))
    }
  })

  it('reproduces the literature: per-snapshot COW grows with k, shared COW and ROW stay flat', () => {
    const figures = claimFigures(readJson<StudyResults>(join(out, 'study.json')).cells).filter((f) => f.valueBytes === 100)
    expect(figures.map((f) => f.workload).sort()).toEqual(['mixed', 'sequential', 'uniform', 'zipfian'])
    for (const f of figures) {
      if (f.workload !== 'sequential') expect(growsLinearly(f), `${f.workload}: per-snapshot grows linearly`).toBe(true)
      expect(sharedStaysFlat(f), `${f.workload}: shared stays flat`).toBe(true)
      expect(rowIgnoresK(f), `${f.workload}: ROW ignores k`).toBe(true)
    }
  })

  it("keeps ROW's writes the same at every k at every value size, once segment cleaning is set aside", () => {
    // docs/benchmarks.md explains ROW's figure moving with k by cleaning alone; this holds it to that.
    const cells = readJson<StudyResults>(join(out, 'study.json')).cells
    const figures = claimFigures(cells)
    expect(new Set(figures.map((f) => f.valueBytes))).toEqual(new Set([100, 4096]))
    for (const f of figures) {
      const row = cells.filter((c) => c.variant === 'row' && c.workload === f.workload && c.valueBytes === f.valueBytes && c.batch === SNAPSHOT_SWEEP_BATCH).sort((a, b) => a.snapshots - b.snapshots)
      const without = row.map((c) => (c.bytesWritten - c.bytesWrittenBy.reclaim) / c.userBytes)
      const base = without[0] as number
      for (const x of without) expect(Math.abs(x - base) / base, `${f.workload}, ${f.valueBytes} B`).toBeLessThanOrEqual(CRITERIA.flat)
    }
  })

  it('measures one extra page read and one extra write per copy at the first overwrite', () => {
    const cow = readJson<CowBenchResults>(join(out, 'cow.json'))
    for (const run of cow.runs.filter((r) => r.variant !== 'row' && r.snapshots > 0)) {
      expect(run.extraReadsPerPage).toBeCloseTo(1, 1)
      expect(run.extraWritesPerPage).toBeCloseTo(run.variant === 'cow-shared' ? 1 : run.snapshots, 1)
    }
  })

  it('puts every peer on the same workloads, Strata on both rulers', () => {
    const peers = readJson<PeerResults>(join(out, 'peers.json'))
    expect(new Set(peers.runs.map((r) => r.store))).toEqual(new Set(['strata-row', 'strata-cow', 'level', 'lmdb', 'memory-level']))
    for (const run of peers.runs) {
      expect(run.userBytes).toBeGreaterThan(0)
      if (run.store.startsWith('strata')) expect(run.ownWriteAmplification).toBeGreaterThanOrEqual(1)
      if (run.deviceWriteAmplification !== undefined) expect(run.deviceWriteAmplification).toBeGreaterThanOrEqual(0)
    }
  })

  it('follows ROW and level over a run several times the database, counting every byte the user wrote', () => {
    const sustained = readJson<SustainedResults>(join(out, 'sustained.json'))
    expect(sustained.runs.map((r) => [r.store, r.snapshotHeld === true])).toEqual([
      ['strata-row', false],
      ['level', false],
      ['strata-row', true],
      ['strata-cow', true],
    ])
    for (const run of sustained.runs) {
      expect(run.points.map((p) => p.multiple)).toEqual(Array.from({ length: sustained.times }, (_, i) => i + 1))
      for (const p of run.points) {
        expect(p.operations).toBe(p.multiple * sustained.keys)
        expect(p.userBytes).toBe(p.operations * (16 + sustained.valueBytes))
        expect(p.seconds).toBeGreaterThan(0)
        // A device reading, where there is one, counts at least the store's own log of the user's bytes.
        if (p.deviceBytes !== undefined && sustained.deviceBackingFile) expect(p.deviceBytes).toBeGreaterThanOrEqual(p.userBytes)
      }
      if (run.store.startsWith('strata')) expect(run.ownWriteAmplification).toBeGreaterThanOrEqual(1)
      // The longest batch is one of the batches: no longer than all of them together.
      expect(run.longestWrite).toBeGreaterThan(0)
      expect(run.longestWrite).toBeLessThanOrEqual(run.closedSeconds)
      if (!run.snapshotHeld) continue
      // A snapshot held and no compaction: every multiple reports the files, and they stay within the bound.
      for (const p of run.points) expect(p.space?.fileBytes).toBeGreaterThan(0)
      expect(run.worstSpace).toBeGreaterThan(0)
      expect(run.worstSpace).toBeLessThanOrEqual(1)
    }
  })

  it('times every operation on every store', () => {
    const throughput = readJson<ThroughputResults>(join(out, 'throughput.json'))
    expect(throughput.cases).toHaveLength(OPERATIONS.length * THROUGHPUT_STORES.length)
    for (const c of throughput.cases) expect(c.entriesPerSecond).toBeGreaterThan(0)
  })

  it('times independent puts on every store at every number of writers in flight', () => {
    const concurrency = readJson<ConcurrencyResults>(join(out, 'concurrency.json'))
    expect(concurrency.runs.map((r) => [r.store, r.inFlight, r.durable])).toEqual(CONCURRENCY_CELLS.flatMap((c) => CLIENT_STORES.map((s) => [s, c.inFlight, c.durable])))
    for (const run of concurrency.runs) {
      expect(run.putsPerSecond).toHaveLength(concurrency.rounds)
      for (const r of run.putsPerSecond) expect(r).toBeGreaterThan(0)
      expect(run.median).toBeGreaterThan(0)
    }
  })

  it('runs every YCSB workload on every store at every number of clients, with ordered latency percentiles', () => {
    const ycsb = readJson<YcsbResults>(join(out, 'ycsb.json'))
    expect(ycsb.clients.length).toBeGreaterThan(1)
    expect(ycsb.cells.map((c) => [c.store, c.workload, c.clients])).toEqual(CLIENT_STORES.flatMap((s) => YCSB_WORKLOADS.flatMap((w) => ycsb.clients.map((c) => [s, w.name, c]))))
    for (const cell of ycsb.cells) {
      expect(cell.operationsPerSecond).toBeGreaterThan(0)
      const workload = YCSB_WORKLOADS.find((w) => w.name === cell.workload)
      // Every operation type the workload issues has latencies (an insert at 5 % may not come up in a tiny cell).
      for (const operation of Object.keys(workload?.mix ?? {})) if (operation !== 'insert') expect(cell.latency, `${cell.store} ${cell.workload} ${cell.clients}`).toHaveProperty(operation)
      let counted = 0
      for (const l of Object.values(cell.latency)) {
        counted += l.count
        expect(l.p50).toBeGreaterThan(0)
        expect(l.p50).toBeLessThanOrEqual(l.p99)
        expect(l.p99).toBeLessThanOrEqual(l.p999)
        expect(l.p999).toBeLessThanOrEqual(l.max)
      }
      expect(counted).toBe(cell.operations)
    }
  })

  it('kills a writer of every store and times each reopen, and runs the ROW frontier', () => {
    const restart = readJson<RestartResults>(join(out, 'restart.json'))
    expect(restart.runs.map((r) => r.store)).toEqual([...RESTART_STORES])
    for (const run of [...restart.runs, ...restart.frontier]) {
      expect(run.kills.length).toBeGreaterThanOrEqual(2)
      for (const k of run.kills) {
        expect(k.batches).toBeGreaterThan(0)
        expect(k.reopenMs).toBeGreaterThan(0)
      }
      expect(run.cleanOpenMs).toBeGreaterThan(0)
    }
    expect(restart.frontier.map((r) => r.maxReplayMs)).toContain(restart.defaultMaxReplayMs)
    // Every frontier run saw whole checkpoint cycles: a write amplification of at least the log's.
    for (const run of restart.frontier) expect(run.cycleWriteAmplification).toBeGreaterThanOrEqual(1)
  })

  it('clones the head and the named snapshot by every method at every size, ROW by link copying one segment at most', () => {
    const clone = readJson<CloneResults>(join(out, 'clone.json'))
    const sizes = [...new Set(clone.runs.map((r) => r.keys))]
    expect(sizes.length).toBeGreaterThan(1)
    expect(clone.runs.map((r) => [r.keys, r.method, r.state])).toEqual(sizes.flatMap((keys) => [...CLONE_METHODS.flatMap((method) => CLONED_STATES.map((state) => [keys, method, state])), [keys, 'row-link', 'head-no-snapshot']]))
    for (const run of clone.runs) {
      expect(run.rounds).toHaveLength(clone.rounds)
      for (const round of run.rounds) {
        expect(round.ms).toBeGreaterThan(0)
        expect(round.bytesWritten).toBeGreaterThan(0)
        if (run.method === 'row-copy' || run.method === 'cow') expect(round.linkedFiles).toBe(0)
      }
      if (run.method === 'row-link') expect(withinOneSegment(run, clone.segmentBytes), `${run.keys} keys, ${run.state}`).toBe(true)
    }
    for (const keys of sizes) {
      const link = cloneRun(clone, 'row-link', keys)
      const copy = cloneRun(clone, 'row-copy', keys)
      if (!link || !copy) throw new Error(`no ROW clones at ${keys} keys`)
      expect(medianBytes(link), `${keys} keys`).toBeLessThan(medianBytes(copy))
    }
    // The quick run's segments are small, so its larger database has sealed segments to share.
    expect(cloneRun(clone, 'row-link', Math.max(...sizes))?.rounds.every((r) => r.linkedFiles > 0)).toBe(true)
    expect(clone.overwriteRuns.map((o) => [o.keys, o.engine, o.on])).toEqual(sizes.flatMap((keys) => ['row', 'cow'].flatMap((engine) => [[keys, engine, 'clone'], [keys, engine, 'source']])))
    for (const run of clone.overwriteRuns) {
      expect(run.userBytes).toBe(run.operations * (16 + clone.valueBytes))
      expect(run.writeAmplification).toBeGreaterThanOrEqual(1)
    }
  })

  it('keeps the engine and abstract-level benchmarks working', () => {
    const engine = readJson<EngineResults>(join(out, 'engine.json'))
    expect(engine.results.map((r) => r.store)).toEqual(['strata-row', 'lmdb', 'level', 'memory-level'])
    expect(engine.results[0]?.writeAmplification).toBeGreaterThanOrEqual(1)
    expect(engine.snapshotNs?.large).toBeGreaterThan(0)
    const level = readJson<LevelResults>(join(out, 'level.json'))
    expect(level.results.map((r) => r.store)).toEqual(['strata', 'level'])
  })

  it('renders the docs page and its charts as SVG', () => {
    const page = readFileSync(join(docs, 'benchmarks.md'), 'utf8')
    for (const heading of ['# Benchmarks', '# The write-amplification study', '# Peers on one ruler', '# Sustained writes', '# Throughput', '# Concurrent writers', '# YCSB', '# Restart after a crash', '# Clones', '# Engine benchmark', '# abstract-level benchmark', '# Where the figures differ from the literature']) {
      expect(page).toContain(heading)
    }
    const charts = readdirSync(join(docs, 'img')).filter((f) => f.endsWith('.svg'))
    expect(charts.sort()).toEqual(['clone-time', 'concurrency', 'first-overwrite', 'peers-by-batch', 'peers-by-workload', 'restart-frontier', 'snapshot-creation', 'space-by-snapshots', 'sustained', 'throughput', 'wa-by-batch', 'wa-by-purpose', 'wa-by-snapshots', 'ycsb-p99', 'ycsb-throughput'].map((n) => `${n}.svg`))
    for (const chart of charts) {
      expect(page).toContain(`(img/${chart})`)
      const svg = readFileSync(join(docs, 'img', chart), 'utf8')
      expect(svg.startsWith('<svg')).toBe(true)
      expect(svg).toContain('<path')
    }
  })
})
