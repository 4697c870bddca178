/**
 * The abstract-level benchmark: StrataLevel beside classic-level (what `level` gives on Node),
 * both through the abstract-level API apps use, in one process, on the same keys and values.
 *
 *   pnpm bench:level [--keys 1000000] [--rounds 5] [--dir /tmp] [--out bench/results/level.json]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { ClassicLevel } from 'classic-level'
import { StrataLevel } from 'strata'
import { benchKey, benchValue, formatRate, median, random, rate, table } from './harness.js'
import { partProgress } from './progress.js'
import { removeFolder } from './stores.js'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
    out: { type: 'string', default: 'bench/results/level.json' },
  },
})
const KEYS = Number(args.keys)
const ROUNDS = Number(args.rounds)
const BATCH = 1000
/** Synced batches in one timed round: enough that a round spans a few of each store's fsyncs and background steps. */
const BATCHES_PER_ROUND = 20
const READS = Math.min(100_000, KEYS)

type Db = StrataLevel<Buffer, Buffer> | ClassicLevel<Buffer, Buffer>

/** Figures for one database: ops/s of each round. */
interface LevelResult {
  store: string
  get: number[]
  getSync?: number[]
  batch: number[]
  scan: number[]
}

type Put = { type: 'put'; key: Buffer; value: Buffer }

/** One batch through whichever database it is (their batch overloads do not unify). */
function batch(db: Db, ops: Put[], sync: boolean): Promise<void> {
  // StrataLevel honours `sync` as classic-level does; abstract-level's typings do not list it.
  return db instanceof StrataLevel ? db.batch(ops, { sync } as object) : db.batch(ops, { sync })
}

async function load(db: Db): Promise<void> {
  for (let at = 0; at < KEYS; at += BATCH) {
    const ops = Array.from({ length: Math.min(BATCH, KEYS - at) }, (_, j) => ({ type: 'put' as const, key: benchKey(at + j), value: benchValue(at + j, 0) }))
    await batch(db, ops, at + BATCH >= KEYS)
  }
}

async function measure(name: string, db: Db): Promise<LevelResult> {
  await db.open()
  await load(db)
  const keys = Array.from({ length: READS }, (_, i) => benchKey(Math.floor(random(500 + i)() * KEYS)))
  const result: LevelResult = { store: name, get: [], batch: [], scan: [] }
  result.get = await rate(ROUNDS, async () => {
    for (const key of keys) if ((await db.get(key)) === undefined) throw new Error(`${name}: missing key`)
    return keys.length
  })
  if (db instanceof StrataLevel) {
    result.getSync = await rate(ROUNDS, () => {
      for (const key of keys) if (db.getSync(key) === undefined) throw new Error(`${name}: missing key`)
      return keys.length
    })
  }
  // The batches are made before the clock starts: the figure is the database's, not the harness's.
  // One round more than is timed: the first warms up, as the other phases' first reads do, and
  // lets work left over from the load (LevelDB's compactions, Strata's checkpoint) settle.
  const rand = random(77)
  const rounds = Array.from({ length: ROUNDS + 1 }, (_, r) =>
    Array.from({ length: BATCHES_PER_ROUND }, (_, b) =>
      Array.from({ length: BATCH }, (): Put => {
        const i = Math.floor(rand() * KEYS)
        return { type: 'put', key: benchKey(i), value: benchValue(i, 1 + r * BATCHES_PER_ROUND + b) }
      }),
    ),
  )
  for (const ops of rounds[0] ?? []) await batch(db, ops, true)
  let round = 1
  result.batch = await rate(ROUNDS, async () => {
    for (const ops of rounds[round++] ?? []) await batch(db, ops, true)
    return BATCHES_PER_ROUND * BATCH
  })
  result.scan = await rate(Math.min(ROUNDS, 3), async () => {
    let n = 0
    for await (const _ of db.iterator()) n++
    if (n !== KEYS) throw new Error(`${name}: scan saw ${n} of ${KEYS}`)
    return n
  })
  await db.close()
  return result
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(args.dir, 'strata-level-bench-'))
  const results: LevelResult[] = []
  console.log(`abstract-level benchmark: ${KEYS.toLocaleString()} keys of 16 bytes, 100-byte values, ${ROUNDS} rounds`)
  const progress = partProgress()
  progress.stage('level: databases', 2)
  try {
    results.push(await measure('strata', new StrataLevel<Buffer, Buffer>(join(root, 'strata'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })))
    progress.tick()
    results.push(await measure('level', new ClassicLevel<Buffer, Buffer>(join(root, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' })))
    progress.tick()
  } finally {
    removeFolder(root)
    progress.stop()
  }
  const [strata, level] = results as [LevelResult, LevelResult]
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  const rows = [
    ['await db.get (ops/s)', formatRate(median(strata.get)), formatRate(median(level.get)), ratio(median(strata.get), median(level.get))],
    ['db.getSync (ops/s; level: await db.get)', formatRate(median(strata.getSync ?? [])), formatRate(median(level.get)), ratio(median(strata.getSync ?? []), median(level.get))],
    ['db.batch of 1,000, sync (puts/s)', formatRate(median(strata.batch)), formatRate(median(level.batch)), ratio(median(strata.batch), median(level.batch))],
    ['iterator scan (entries/s)', formatRate(median(strata.scan)), formatRate(median(level.scan)), ratio(median(strata.scan), median(level.scan))],
  ]
  console.log()
  console.log(table(['', 'strata', 'level', 'strata ÷ level'], rows))
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(args.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, machine, keys: KEYS, rounds: ROUNDS, results }, null, 2)}\n`)
  console.log(`results written to ${args.out}`)
}

await main()
