/**
 * Restart after a crash (docs/benchmarks.md §Restart after a crash): a process writes durable
 * 1,000-op batches of uniform random overwrites to a loaded database and is killed with SIGKILL at
 * several points of the checkpoint cycle; each time, this process times the reopen. Strata's two
 * engines beside LevelDB (classic-level) and LMDB, at each size asked for. Then the frontier: the
 * ROW engine under a range of replay targets (`checkpoint.maxReplayMs`), each with its worst
 * restart and its write amplification over whole checkpoint cycles.
 *
 *   pnpm bench:restart [--quick] [--keys 100000,1000000] [--kills 4] [--frontier-keys 1000000] [--dir /tmp] [--out bench/results/restart.json]
 *
 * A child (`--child`) opens one store, writes batches until it is killed, and prints a line per
 * durable batch: batches so far, checkpoints, bytes its storage wrote and user bytes (Strata's own
 * counters; 0 for the peers).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { DEFAULT_LOG_CHECKPOINT_POLICY, type LogCheckpointPolicy, type Operation, type SnapshotEngine } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb } from 'lmdb'
import { benchKey, median, random, shuffledKeys, table } from './harness.js'
import { partProgress } from './progress.js'
import { runRecord, writeJson } from './result-file.js'
import { type KillPoint, RESTART_STORES, type RestartResults, type RestartRun, type RestartStore, worstReopen } from './restart-results.js'
import { removeFolder } from './stores.js'
import { incompressibleValue } from './workloads.js'

const BATCH = 1000
const VALUE_BYTES = 100
/** Where in the checkpoint cycle the kills fall, as shares of it (the last just before a checkpoint). */
const KILL_SHARES = [0.3, 0.6, 0.9, 0.98, 0.5, 0.75, 0.95, 0.99]

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    keys: { type: 'string' },
    kills: { type: 'string' },
    'frontier-keys': { type: 'string' },
    'max-replay-ms': { type: 'string' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/restart.json' },
  },
})

/** An open store: durable batches, Strata's counters, close. */
interface Opened {
  write(ops: Operation[]): Promise<void>
  get(key: Buffer): Promise<unknown>
  counters(): { checkpoints: number; written: number; user: number }
  close(): Promise<void>
}

function strata(engine: SnapshotEngine): Opened {
  return {
    write: (ops) => engine.write(ops, { sync: true }),
    get: async (key) => engine.get(key),
    counters: () => {
      const s = engine.stats()
      return { checkpoints: s.checkpoints, written: s.io.totalWritten, user: s.io.userBytes }
    },
    close: () => engine.close(),
  }
}

/** Opens `store` in `dir` (made if missing); `maxReplayMs` sets a Strata engine's replay target. */
async function openStore(store: RestartStore, dir: string, maxReplayMs?: number): Promise<Opened> {
  mkdirSync(dir, { recursive: true })
  const checkpoint: Partial<LogCheckpointPolicy> = maxReplayMs === undefined ? {} : { maxReplayMs }
  switch (store) {
    case 'strata-row':
      return strata(await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), checkpoint }))
    case 'strata-cow':
      return strata(await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), store: 'shared', checkpoint }))
    case 'level': {
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
      await db.open()
      return { write: (ops) => db.batch(ops, { sync: true }), get: (key) => db.get(key), counters: () => ({ checkpoints: 0, written: 0, user: 0 }), close: () => db.close() }
    }
    case 'lmdb': {
      const db = openLmdb<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary', compression: false })
      return {
        write: async (ops) => {
          await db.transaction(() => {
            for (const op of ops) {
              if (op.type === 'put') db.put(op.key, op.value)
              else db.remove(op.key)
            }
          })
          await db.flushed
        },
        get: async (key) => db.get(key),
        counters: () => ({ checkpoints: 0, written: 0, user: 0 }),
        close: () => db.close(),
      }
    }
  }
}

/** Loads `keys` keys in random order, in durable batches, without holding them all at once. */
async function load(store: RestartStore, dir: string, keys: number, maxReplayMs?: number): Promise<void> {
  const db = await openStore(store, dir, maxReplayMs)
  const order = shuffledKeys(keys)
  for (let at = 0; at < keys; at += BATCH) {
    const ops: Operation[] = []
    for (let k = at; k < Math.min(keys, at + BATCH); k++) ops.push({ type: 'put', key: benchKey(order[k] as number), value: incompressibleValue(order[k] as number, 0, VALUE_BYTES) })
    await db.write(ops)
  }
  await db.close()
}

/** The child: writes durable overwrite batches until killed, a line per batch. */
async function child(store: RestartStore, dir: string, keys: number, seed: number, maxReplayMs?: number): Promise<void> {
  const db = await openStore(store, dir, maxReplayMs)
  const rand = random(seed)
  for (let batches = 1; ; batches++) {
    const ops: Operation[] = []
    for (let n = 0; n < BATCH; n++) {
      const i = Math.floor(rand() * keys)
      ops.push({ type: 'put', key: benchKey(i), value: incompressibleValue(i, seed * 100_000 + batches, VALUE_BYTES) })
    }
    await db.write(ops)
    const c = db.counters()
    process.stdout.write(`${batches} ${c.checkpoints} ${c.written} ${c.user}\n`)
  }
}

/** A line the child printed. */
interface ChildLine {
  batches: number
  checkpoints: number
  written: number
  user: number
}

/**
 * Runs a child on `dir` and kills it with SIGKILL once `stop` says so of a line it printed;
 * resolves with the lines. A child that exits by itself is an error.
 */
function runChild(store: RestartStore, dir: string, keys: number, seed: number, maxReplayMs: number | undefined, stop: (line: ChildLine) => boolean): Promise<ChildLine[]> {
  const extra = maxReplayMs === undefined ? [] : ['--max-replay-ms', String(maxReplayMs)]
  const proc: ChildProcess = spawn(process.execPath, ['--max-old-space-size=8192', process.argv[1] as string, '--child', store, dir, String(keys), String(seed), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: ChildLine[] = []
  return new Promise((resolve, reject) => {
    let killed = false
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      if (killed) return
      const [batches, checkpoints, written, user] = text.split(' ').map(Number) as [number, number, number, number]
      const line = { batches, checkpoints, written, user }
      lines.push(line)
      if (stop(line)) {
        killed = true
        proc.kill('SIGKILL')
      }
    })
    proc.on('exit', () => (killed ? resolve(lines) : reject(new Error(`the ${store} child exited before it was killed`))))
  })
}

/** Times an open of `store` in `dir`, reads one key to show it is whole, and closes it. */
async function timedOpen(store: RestartStore, dir: string, maxReplayMs: number | undefined): Promise<number> {
  const started = performance.now()
  const db = await openStore(store, dir, maxReplayMs)
  const ms = performance.now() - started
  if ((await db.get(benchKey(0))) === undefined) throw new Error(`${store}: key 0 is missing after the reopen`)
  await db.close()
  return ms
}

/**
 * One store at one size: load, then a calibration child that runs until it has seen two
 * checkpoints (Strata; the peers run as many batches as ROW's cycle at this size, or 200) and is
 * killed, then a child killed at each share of the cycle; every kill is followed by a timed reopen.
 */
async function runStore(store: RestartStore, root: string, keys: number, kills: number, cycleHint: number | undefined, tick: () => void, maxReplayMs?: number): Promise<RestartRun> {
  const dir = mkdtempSync(join(root, `${store}-`))
  try {
    await load(store, dir, keys, maxReplayMs)
    const cleanOpens = [await timedOpen(store, dir, maxReplayMs), await timedOpen(store, dir, maxReplayMs), await timedOpen(store, dir, maxReplayMs)]
    const strataStore = store === 'strata-row' || store === 'strata-cow'
    // Calibration: the batches between checkpoints, and what a whole cycle writes.
    const cap = Math.max(400, Math.ceil((8 * keys) / BATCH))
    const marks: ChildLine[] = []
    let last = 0
    const calibration = await runChild(store, dir, keys, 1, maxReplayMs, (line) => {
      if (line.checkpoints > last) {
        last = line.checkpoints
        marks.push(line)
      }
      return strataStore ? marks.length >= 3 || line.batches >= cap : line.batches >= (cycleHint ?? 200)
    })
    const killPoints: KillPoint[] = [{ batches: calibration.length, reopenMs: await timedOpen(store, dir, maxReplayMs) }]
    tick()
    const [first, , third] = marks
    const cycle = strataStore ? (first && third ? (third.batches - first.batches) / 2 : calibration.length) : (cycleHint ?? 200)
    const amplification = first && third ? (third.written - first.written) / (third.user - first.user) : undefined
    for (let k = 0; k < kills; k++) {
      const target = Math.max(1, Math.round((KILL_SHARES[k % KILL_SHARES.length] as number) * cycle))
      const lines = await runChild(store, dir, keys, 2 + k, maxReplayMs, (line) => line.batches >= target)
      killPoints.push({ batches: lines.length, reopenMs: await timedOpen(store, dir, maxReplayMs) })
      tick()
    }
    return {
      store,
      keys,
      ...(maxReplayMs === undefined ? {} : { maxReplayMs }),
      cycleBatches: cycle,
      ...(amplification === undefined ? {} : { cycleWriteAmplification: amplification }),
      kills: killPoints,
      cleanOpenMs: median(cleanOpens),
    }
  } finally {
    removeFolder(dir)
  }
}

/** The replay targets the frontier runs the ROW engine under (Infinity: bounded by the other rules alone). */
export const FRONTIER_TARGETS = [250, 500, 1000, 2000, 4000, Number.POSITIVE_INFINITY]
/** A quick run's: the default and none. */
const QUICK_FRONTIER_TARGETS = [DEFAULT_LOG_CHECKPOINT_POLICY.maxReplayMs, Number.POSITIVE_INFINITY]

async function main(): Promise<void> {
  const quick = args.quick === true
  const sizes = (args.keys ?? (quick ? '5000' : '100000,1000000')).split(',').map(Number)
  const kills = Number(args.kills ?? (quick ? 1 : 4))
  const frontierKeys = Number(args['frontier-keys'] ?? (quick ? 5000 : 1_000_000))
  const targets = quick ? QUICK_FRONTIER_TARGETS : FRONTIER_TARGETS
  if (sizes.some((n) => !Number.isInteger(n) || n < BATCH) || !Number.isInteger(frontierKeys) || frontierKeys < BATCH) throw new RangeError('--keys and --frontier-keys take whole numbers of at least 1000')
  if (!Number.isInteger(kills) || kills < 1 || kills > KILL_SHARES.length) throw new RangeError(`--kills must be a whole number from 1 to ${KILL_SHARES.length}`)
  const root = mkdtempSync(join(args.dir as string, 'strata-restart-'))
  const progress = partProgress()
  console.log(
    `restart after SIGKILL: ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')} keys of 16 bytes, ${VALUE_BYTES}-byte values; a writer of durable batches of ${BATCH.toLocaleString('en-US')} uniform overwrites killed ${kills + 1} times per store and size; ${RESTART_STORES.join(', ')}`,
  )
  const runs: RestartRun[] = []
  const frontier: RestartRun[] = []
  try {
    progress.stage('restart: kills', sizes.length * RESTART_STORES.length * (kills + 1))
    for (const keys of sizes) {
      let cycleHint: number | undefined
      for (const store of RESTART_STORES) {
        const run = await runStore(store, root, keys, kills, cycleHint, () => progress.tick())
        if (store === 'strata-row') cycleHint = Math.round(run.cycleBatches)
        runs.push(run)
      }
    }
    progress.stage('restart: frontier', targets.length * (kills + 1))
    for (const target of targets) {
      const maxReplayMs = Number.isFinite(target) ? target : 2 ** 40
      frontier.push(await runStore('strata-row', root, frontierKeys, kills, undefined, () => progress.tick(), maxReplayMs))
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  const ms = (value: number) => `${value.toFixed(0)} ms`
  console.log('\nreopen after SIGKILL (worst · median over the kill points), clean reopen, batches per checkpoint cycle')
  console.log(
    table(
      ['keys', 'store', 'worst', 'median', 'clean open', 'cycle', 'worst ÷ level'],
      runs.map((r) => {
        const level = runs.find((x) => x.store === 'level' && x.keys === r.keys)
        return [r.keys.toLocaleString('en-US'), r.store, ms(worstReopen(r)), ms(median(r.kills.map((k) => k.reopenMs))), ms(r.cleanOpenMs), r.cycleBatches.toFixed(0), level ? `${(worstReopen(r) / worstReopen(level)).toFixed(1)}×` : '—']
      }),
    ),
  )
  console.log(`\nfrontier, ROW at ${frontierKeys.toLocaleString('en-US')} keys: replay target → worst reopen, write amplification over whole checkpoint cycles (own counters)`)
  console.log(
    table(
      ['maxReplayMs', 'worst reopen', 'cycle', 'write amplification'],
      frontier.map((r) => [r.maxReplayMs !== undefined && r.maxReplayMs < 2 ** 40 ? String(r.maxReplayMs) : 'none', ms(worstReopen(r)), r.cycleBatches.toFixed(0), r.cycleWriteAmplification === undefined ? '—' : `${r.cycleWriteAmplification.toFixed(2)}×`]),
    ),
  )
  const results: RestartResults = {
    benchmark: 'restart',
    ...runRecord(quick),
    valueBytes: VALUE_BYTES,
    batch: BATCH,
    defaultMaxReplayMs: DEFAULT_LOG_CHECKPOINT_POLICY.maxReplayMs,
    runs,
    frontier,
    frontierKeys,
  }
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

if (args.child) {
  const [store, dir, keys, seed] = positionals
  const maxReplayMs = args['max-replay-ms'] === undefined ? undefined : Number(args['max-replay-ms'])
  await child(store as RestartStore, dir as string, Number(keys), Number(seed), maxReplayMs)
} else {
  await main()
}
