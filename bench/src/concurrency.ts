/**
 * Independent puts from many writers at once, as a server's request handlers make them: each
 * writer awaits its own `put` of a 100-byte value under a 16-byte key, N writers in flight, on a
 * fresh database. Durable at 1, 16 and 256 in flight, and `sync: false` at 64, on Strata
 * (StrataLevel on both engines), level (classic-level), lmdb and memory-level as the no-disk
 * ceiling. Each round runs every cell on every store, the stores taking turns, each on a new
 * database; the figure of a cell is the median of its rounds.
 *
 *   pnpm bench:concurrency [--quick] [--puts 20000] [--rounds 3] [--dir /tmp] [--out bench/results/concurrency.json]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CLIENT_STORES, CONCURRENCY_CELLS, type ConcurrencyCell, cellLabel, DISK_PEERS, findRun, runClients, STRATA_CLIENT_STORES } from './clients.js'
import { times } from './docs-format.js'
import { benchKey, formatRate, median, table } from './harness.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { removeFolder } from './stores.js'
import { LMDB_NOT_DURABLE, openThroughputStore, type ThroughputName } from './throughput-stores.js'
import { incompressibleValue } from './workloads.js'

/** One store in one cell: puts per second in each round, and their median. */
export interface ConcurrencyRun extends ConcurrencyCell {
  store: ThroughputName
  putsPerSecond: number[]
  median: number
}

/** The concurrency part's results file. */
export interface ConcurrencyResults extends RunRecord {
  benchmark: 'concurrency'
  /** Puts per store, cell and round, each to a fresh database. */
  puts: number
  rounds: number
  keyBytes: number
  valueBytes: number
  /** What lmdb's non-durable puts are, since lmdb-js has no per-put `sync: false`. */
  lmdbNotDurable: string
  runs: ConcurrencyRun[]
}

/** Times `puts` puts with `cell.inFlight` writers on a new store in `dir`; returns puts per second. */
async function timeCell(name: ThroughputName, dir: string, cell: ConcurrencyCell, puts: number): Promise<number> {
  // Keys and values are made before the clock starts.
  const keys = Array.from({ length: puts }, (_, i) => benchKey(i))
  const values = Array.from({ length: puts }, (_, i) => incompressibleValue(i, 1, 100))
  const store = await openThroughputStore(name, dir)
  try {
    let next = 0
    const seconds = await runClients(cell.inFlight, () => next < puts, () => {
      const i = next++
      return store.put(keys[i] as Buffer, values[i] as Buffer, cell.durable)
    })
    // The last put must be there: a store that dropped writes would time less than it claims.
    if ((await store.get(keys[puts - 1] as Buffer)) === undefined) throw new Error(`${name}: the last put is missing`)
    return puts / seconds
  } finally {
    await store.close()
    removeFolder(dir)
  }
}

/** Runs every round of every cell on every store, the stores taking turns. */
async function measure(puts: number, rounds: number, root: string): Promise<ConcurrencyRun[]> {
  const progress = partProgress()
  progress.stage('concurrency: cells', rounds * CONCURRENCY_CELLS.length * CLIENT_STORES.length)
  const rates = new Map<string, number[]>()
  const id = (store: ThroughputName, cell: ConcurrencyCell) => `${store}|${cell.inFlight}|${cell.durable}`
  try {
    for (let round = 0; round < rounds; round++) {
      for (const cell of CONCURRENCY_CELLS) {
        for (const store of CLIENT_STORES) {
          ;(globalThis as { gc?: () => void }).gc?.()
          const dir = join(root, `${store.replace(/\W+/g, '-')}-${cell.inFlight}-${round}`)
          const rate = await timeCell(store, dir, cell, puts)
          rates.set(id(store, cell), [...(rates.get(id(store, cell)) ?? []), rate])
          progress.tick()
        }
      }
    }
  } finally {
    progress.stop()
  }
  return CONCURRENCY_CELLS.flatMap((cell) =>
    CLIENT_STORES.map((store) => {
      const putsPerSecond = rates.get(id(store, cell)) ?? []
      return { store, ...cell, putsPerSecond, median: median(putsPerSecond) }
    }),
  )
}

function report(results: ConcurrencyResults): void {
  const ratioHeads = STRATA_CLIENT_STORES.flatMap((s) => DISK_PEERS.map((p) => `${s.replace('StrataLevel ', '')} ÷ ${p}`))
  console.log(`\nputs per second (median of ${results.rounds} rounds of ${results.puts.toLocaleString('en-US')} puts each, a fresh database each)`)
  console.log(
    table(
      ['', ...CLIENT_STORES, ...ratioHeads],
      CONCURRENCY_CELLS.map((cell) => {
        const at = (s: ThroughputName) => findRun(results, s, cell)?.median
        const ratios = STRATA_CLIENT_STORES.flatMap((s) => DISK_PEERS.map((p) => times((at(s) ?? Number.NaN) / (at(p) ?? Number.NaN))))
        return [cellLabel(cell).replaceAll('`', ''), ...CLIENT_STORES.map((s) => formatRate(at(s))), ...ratios]
      }),
    ),
  )
  console.log(`\n${results.lmdbNotDurable}`)
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      puts: { type: 'string' },
      rounds: { type: 'string' },
      dir: { type: 'string', default: tmpdir() },
      out: { type: 'string', default: 'bench/results/concurrency.json' },
    },
  })
  const quick = args.quick === true
  const puts = Number(args.puts ?? (quick ? 300 : 20_000))
  const rounds = Number(args.rounds ?? (quick ? 1 : 3))
  if (!(puts >= 1) || !(rounds >= 1)) throw new RangeError('--puts and --rounds must be at least 1')
  console.log(`concurrency: ${puts.toLocaleString('en-US')} independent puts of 100-byte values per store and cell, ${rounds} round(s); ${CLIENT_STORES.join(', ')}`)
  const root = mkdtempSync(join(args.dir as string, 'strata-concurrency-'))
  let runs: ConcurrencyRun[]
  try {
    runs = await measure(puts, rounds, root)
  } finally {
    removeFolder(root)
  }
  const results: ConcurrencyResults = { benchmark: 'concurrency', ...runRecord(quick), puts, rounds, keyBytes: 16, valueBytes: 100, lmdbNotDurable: LMDB_NOT_DURABLE, runs }
  report(results)
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

await main()
