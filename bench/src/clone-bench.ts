/**
 * Clones (docs/benchmarks.md §Clones): how long `db.snapshots.clone` takes and how many bytes it
 * writes against the database's size, on the ROW engine by hard link and by copy (`link: false`)
 * and on the COW engine, with `db.snapshots.export` of the same state beside them; each of the
 * head and of a named snapshot taken halfway through the load. Then the write amplification of
 * the first durable overwrites on a clone, beside the same overwrites on its source.
 *
 *   pnpm bench:clone [--quick] [--keys 10000,100000,1000000] [--rounds 5] [--overwrites 100000] [--methods row-link,row-copy,cow,export] [--segment-bytes 67108864] [--dir /tmp] [--out bench/results/clone.json]
 */
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Operation } from '@strata/btree'
import { NodeFileSystem } from '@strata/storage'
import { StrataLevel } from 'strata'
import { BlockDevice } from './block-device.js'
import { CLONE_METHODS, CLONED_STATES, type CloneEngine, DEFAULT_SEGMENT_BYTES, type CloneMethod, type CloneResults, type CloneRound, type CloneRun, type CloneSource, type ClonedState, medianBytes, medianMs, METHOD_ENGINE, type OverwriteRun } from './clone-results.js'
import { bytes, mark, thousands, times } from './docs-format.js'
import { cloneVerdicts } from './docs-clone.js'
import { benchKey, random, shuffledKeys, table } from './harness.js'
import { partProgress } from './progress.js'
import { runRecord, writeJson } from './result-file.js'
import { folderBytes, removeFolder } from './stores.js'
import { incompressibleValue } from './workloads.js'

const BATCH = 1000
const VALUE_BYTES = 100
/** The named snapshot the load takes halfway, which the named clones copy. */
const MID_LOAD = 'mid-load'
/** The snapshot an export of the head reads (export takes a name), made and deleted outside the timing. */
const EXPORT_HEAD = 'export-head'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keys: { type: 'string' },
    rounds: { type: 'string' },
    overwrites: { type: 'string' },
    methods: { type: 'string' },
    'segment-bytes': { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/clone.json' },
  },
})

type Db = StrataLevel<Buffer, Buffer>

/** How long a timed step waits, once settled, for the background work the last step left (a quick run, which checks the harness, does not). */
const SETTLE_MS = args.quick === true ? 0 : 1000

/** A database of `engine` in `dir`; `fs`, when given, is the folder's file system, whose I/O counters outlive the close. */
async function openDb(engine: CloneEngine, dir: string, segmentBytes: number, fs?: NodeFileSystem): Promise<Db> {
  const db = new StrataLevel<Buffer, Buffer>(dir, { engine, keyEncoding: 'buffer', valueEncoding: 'buffer', engineOptions: { segmentBytes }, fs })
  await db.open()
  return db
}

/** A batch, durable or not (abstract-level's typings do not list `sync`, which StrataLevel honours). */
function write(db: Db, ops: Operation[], sync: boolean): Promise<void> {
  return db.batch(ops, { sync } as object)
}

/**
 * Loads `keys` keys in random order, in batches of 1,000 (the last one durable), without holding
 * them all at once; the named snapshot {@link MID_LOAD} is taken when half are in.
 */
async function load(db: Db, keys: number): Promise<void> {
  const order = shuffledKeys(keys)
  const half = Math.floor(keys / BATCH / 2) * BATCH
  for (let at = 0; at < keys; at += BATCH) {
    if (at === half) await db.snapshots.create(MID_LOAD)
    const ops: Operation[] = []
    for (let k = at; k < Math.min(keys, at + BATCH); k++) ops.push({ type: 'put', key: benchKey(order[k] as number), value: incompressibleValue(order[k] as number, 0, VALUE_BYTES) })
    await write(db, ops, at + BATCH >= keys)
  }
}

/** A loaded source database of one engine, open, and the file system it is on. */
interface Source {
  db: Db
  dir: string
  disk: BlockDevice
}


/**
 * Readies the machine for a timed step, so that it does not pay for the last one:
 * 1. Write the file system's dirty pages out (syncfs): a COW clone leaves hundreds of MiB.
 * 2. Collect garbage (node runs with --expose-gc).
 * 3. Wait a second, for what the last step left to background threads (most likely V8 freeing
 *    the buffers of a clone's page cache): measured at 1,000,000 keys before clones shared the
 *    active segment, a ROW clone of the head right after a clone of the named snapshot took a
 *    median 355 ms without the wait against 128 ms after another clone of the head, and 181 ms
 *    against 179 ms with it.
 */
async function settle(disk: BlockDevice): Promise<void> {
  disk.flush()
  ;(globalThis as { gc?: () => void }).gc?.()
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
}

/**
 * One copy of `state` into the new folder `target`, timed: a clone as `method` says, or an export
 * (of the head by way of a snapshot made and deleted outside the timing).
 */
async function copyOnce(method: CloneMethod, state: ClonedState, source: Source, target: string): Promise<CloneRound> {
  const { db } = source
  const name = state === 'named' ? MID_LOAD : 'head'
  if (method === 'export') {
    const exported = state === 'named' ? MID_LOAD : EXPORT_HEAD
    if (state === 'head') await db.snapshots.create(EXPORT_HEAD)
    await settle(source.disk)
    const started = performance.now()
    await db.snapshots.export(exported, target)
    const ms = performance.now() - started
    if (state === 'head') await db.snapshots.delete(EXPORT_HEAD)
    return { ms, bytesWritten: folderBytes(target), linkedFiles: 0, copiedFiles: readdirSync(target).length }
  }
  await settle(source.disk)
  const started = performance.now()
  const made = await db.snapshots.clone(name, target, { link: method !== 'row-copy' })
  const ms = performance.now() - started
  return { ms, ...made }
}

/**
 * `count` uniform random overwrites in durable batches of 1,000 on the database in `dir`, then its
 * close: every byte its storage wrote from the open to the end of the close, against the user's.
 */
async function overwrite(engine: CloneEngine, dir: string, keys: number, count: number, on: 'clone' | 'source', segmentBytes: number): Promise<OverwriteRun> {
  const fs = new NodeFileSystem(dir)
  const db = await openDb(engine, dir, segmentBytes, fs)
  await settle(new BlockDevice(dir))
  fs.io.reset()
  // The same keys and values on the clone and on the source: one seed.
  const rand = random(4242)
  const started = performance.now()
  for (let done = 0, round = 1; done < count; done += BATCH) {
    const ops: Operation[] = []
    for (let n = 0; n < Math.min(BATCH, count - done); n++) {
      const i = Math.floor(rand() * keys)
      ops.push({ type: 'put', key: benchKey(i), value: incompressibleValue(i, round++, VALUE_BYTES) })
    }
    await write(db, ops, true)
  }
  await db.close()
  const seconds = (performance.now() - started) / 1000
  const io = fs.io.report()
  return { engine, keys, on, operations: count, userBytes: io.userBytes, bytesWritten: io.totalWritten, writeAmplification: io.totalWritten / io.userBytes, seconds }
}

/** A comma-separated list of methods; an unknown one is the caller's mistake. */
function parseMethods(text: string): CloneMethod[] {
  const methods = text.split(',').map((m) => m.trim())
  for (const m of methods) if (!(CLONE_METHODS as readonly string[]).includes(m)) throw new RangeError(`unknown method '${m}': the methods are ${CLONE_METHODS.join(', ')}`)
  return CLONE_METHODS.filter((m) => methods.includes(m))
}

/**
 * One size:
 * 1. Load a ROW and a COW database (as the methods need), a named snapshot halfway; close and
 *    reopen each, so no checkpoint the load owes falls in a clone's time.
 * 2. Rounds: in each, every method copies the head and the named snapshot into fresh folders,
 *    taking turns so machine noise falls on all alike, each on a settled machine;
 *    each copy is removed after it is measured.
 * 3. Delete the named snapshot of each source, and time ROW's clone by link of the head again.
 * 4. Overwrites: a head clone of each engine (ROW by link), alike its source now, then the same
 *    overwrites on the clone and on the source, each on its own.
 */
async function runSize(root: string, keys: number, rounds: number, overwrites: number, methods: CloneMethod[], segmentBytes: number, tick: () => void): Promise<{ sources: CloneSource[]; runs: CloneRun[]; overwriteRuns: OverwriteRun[] }> {
  const engines = [...new Set(methods.map((m) => METHOD_ENGINE[m]))]
  const open = new Map<CloneEngine, Source>()
  const sources: CloneSource[] = []
  const overwriteRuns: OverwriteRun[] = []
  try {
    // 1. The sources.
    for (const engine of engines) {
      const dir = join(root, `${engine}-${keys}`)
      const loading = await openDb(engine, dir, segmentBytes)
      await load(loading, keys)
      await loading.close()
      const db = await openDb(engine, dir, segmentBytes)
      const stats = db.stats()
      sources.push({ engine, keys, fileBytes: stats.fileBytes, ...(typeof stats.segments === 'number' ? { segments: stats.segments } : {}) })
      open.set(engine, { db, dir, disk: new BlockDevice(dir) })
      tick()
    }
    // 2. The rounds.
    const runs: CloneRun[] = methods.flatMap((method) => CLONED_STATES.map((state) => ({ method, state, keys, rounds: [] })))
    for (let round = 0; round < rounds; round++) {
      for (const run of runs) {
        const target = join(root, `${run.method}-${run.state}-${keys}-${round}`)
        run.rounds.push(await copyOnce(run.method, run.state, open.get(METHOD_ENGINE[run.method]) as Source, target))
        removeFolder(target)
        tick()
      }
    }
    // 3. The named snapshot deleted; ROW's head cloned by link again, to show what the snapshot cost.
    for (const source of open.values()) await source.db.snapshots.delete(MID_LOAD)
    const row = open.get('row')
    if (row && methods.includes('row-link')) {
      const run: CloneRun = { method: 'row-link', state: 'head-no-snapshot', keys, rounds: [] }
      for (let round = 0; round < rounds; round++) {
        const target = join(root, `row-link-head-no-snapshot-${keys}-${round}`)
        run.rounds.push(await copyOnce('row-link', 'head', row, target))
        removeFolder(target)
        tick()
      }
      runs.push(run)
    }
    // 4. The overwrites.
    const clones = new Map<CloneEngine, string>()
    for (const [engine, source] of open) {
      if (!methods.includes(engine === 'row' ? 'row-link' : 'cow')) continue
      const dir = join(root, `${engine}-${keys}-clone`)
      await source.db.snapshots.clone('head', dir)
      clones.set(engine, dir)
    }
    for (const source of open.values()) await source.db.close()
    for (const [engine, dir] of clones) {
      overwriteRuns.push(await overwrite(engine, dir, keys, overwrites, 'clone', segmentBytes))
      tick()
      overwriteRuns.push(await overwrite(engine, (open.get(engine) as Source).dir, keys, overwrites, 'source', segmentBytes))
      tick()
      removeFolder(dir)
    }
    return { sources, runs, overwriteRuns }
  } finally {
    for (const source of open.values()) {
      if (source.db.status === 'open') await source.db.close()
      removeFolder(source.dir)
    }
  }
}

async function main(): Promise<void> {
  const quick = args.quick === true
  const sizes = (args.keys ?? (quick ? '2000,5000' : '10000,100000,1000000')).split(',').map(Number)
  const rounds = Number(args.rounds ?? (quick ? 1 : 5))
  const overwrites = Number(args.overwrites ?? (quick ? 5000 : 100_000))
  const methods = parseMethods(args.methods ?? CLONE_METHODS.join(','))
  // A quick run's databases span several segments, so its clones link some.
  const segmentBytes = Number(args['segment-bytes'] ?? (quick ? 256 * 1024 : DEFAULT_SEGMENT_BYTES))
  if (sizes.some((n) => !Number.isInteger(n) || n < 2 * BATCH)) throw new RangeError('--keys takes whole numbers of at least 2000')
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('--rounds must be a whole number of at least 1')
  if (!Number.isInteger(overwrites) || overwrites < BATCH) throw new RangeError('--overwrites must be a whole number of at least 1000')
  if (!Number.isInteger(segmentBytes) || segmentBytes < 4096) throw new RangeError('--segment-bytes must be a whole number of at least 4096')
  const root = mkdtempSync(join(args.dir as string, 'strata-clone-'))
  const progress = partProgress()
  const engines = new Set(methods.map((m) => METHOD_ENGINE[m])).size
  const overwriteRunsPerSize = 2 * methods.filter((m) => m === 'row-link' || m === 'cow').length
  console.log(
    `clones: ${sizes.map(thousands).join(', ')} keys of 16 bytes, ${VALUE_BYTES}-byte values, a named snapshot halfway through the load; ${methods.join(', ')}, of the head and of the snapshot, ${rounds} round${rounds === 1 ? '' : 's'}; ROW segments of ${bytes(segmentBytes)}; then ${thousands(overwrites)} durable overwrites on a clone and on its source`,
  )
  const unheldRounds = methods.includes('row-link') ? rounds : 0
  progress.stage('clone: sizes', sizes.length * (engines + rounds * methods.length * CLONED_STATES.length + unheldRounds + overwriteRunsPerSize))
  const results: CloneResults = { benchmark: 'clone', ...runRecord(quick), valueBytes: VALUE_BYTES, batch: BATCH, segmentBytes, rounds, sources: [], runs: [], overwrites, overwriteRuns: [] }
  try {
    for (const keys of sizes) {
      const size = await runSize(root, keys, rounds, overwrites, methods, segmentBytes, () => progress.tick())
      results.sources.push(...size.sources)
      results.runs.push(...size.runs)
      results.overwriteRuns.push(...size.overwriteRuns)
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`
  console.log(`\nmedian time and bytes written of ${rounds} round${rounds === 1 ? '' : 's'}, files linked and copied`)
  console.log(
    table(
      ['keys', 'method', 'state', 'time', 'bytes written', 'linked', 'copied'],
      results.runs.map((r) => [thousands(r.keys), r.method, r.state, ms(medianMs(r)), bytes(medianBytes(r)), String(r.rounds.at(-1)?.linkedFiles ?? 0), String(r.rounds.at(-1)?.copiedFiles ?? 0)]),
    ),
  )
  console.log('\nthe targets')
  console.log(table(['target', 'measured', 'target', 'verdict'], cloneVerdicts(results).map((v) => [v.label, v.measured, v.target, v.met === undefined ? 'not run' : mark(v.met)])))
  console.log(`\nwrite amplification of ${thousands(overwrites)} durable overwrites (own counters, the close included)`)
  console.log(
    table(
      ['keys', 'engine', 'on the clone', 'on the source'],
      results.sources
        .filter((s) => results.overwriteRuns.some((o) => o.engine === s.engine && o.keys === s.keys))
        .map((s) => {
          const wa = (on: 'clone' | 'source') => times(results.overwriteRuns.find((o) => o.engine === s.engine && o.keys === s.keys && o.on === on)?.writeAmplification)
          return [thousands(s.keys), s.engine, wa('clone'), wa('source')]
        }),
    ),
  )
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

await main()
