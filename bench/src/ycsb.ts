/**
 * A YCSB-style benchmark: the six core workloads (A 50/50 read/update, B 95/5, C read only,
 * D read latest, E short scans, F read-modify-write) with zipfian keys on a database of n
 * records of 100 bytes, driven by C concurrent clients that each issue one operation and await it
 * (C = 1, 16, 64, 256), every write durable. Stores: Strata through StrataLevel on both engines,
 * level (classic-level, `sync: true`), lmdb (a put, then `db.flushed`) and memory-level as the
 * no-disk ceiling, one at a time, each loaded once and then run through every workload and client
 * count for a fixed time. Per cell: throughput, and the latency of each operation type at p50,
 * p99, p99.9 and max, from an HDR histogram (hdr-histogram-js) of every operation's time.
 *
 *   pnpm bench:ycsb [--quick] [--records 1000000] [--seconds 5] [--clients 1,16,64,256] [--dir /tmp] [--out bench/results/ycsb.json]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { build, type Histogram } from 'hdr-histogram-js'
import { CLIENT_STORES, runClients } from './clients.js'
import { formatRate, table } from './harness.js'
import { partProgress } from './progress.js'
import { type RunRecord, runRecord, writeJson } from './result-file.js'
import { removeFolder } from './stores.js'
import { loadStore, openThroughputStore, type ThroughputName, type ThroughputStore } from './throughput-stores.js'
import { FULL_RUN_RECORDS, YCSB_OPERATIONS, YCSB_WORKLOADS, YcsbKeySpace, type YcsbOperation, type YcsbRequest, type YcsbWorkload, type YcsbWorkloadName } from './ycsb-workloads.js'

/** One operation type's latencies in one cell, in microseconds. */
export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p99: number
  p999: number
  max: number
}

/** One store running one workload with one number of clients. */
export interface YcsbCell {
  store: ThroughputName
  workload: YcsbWorkloadName
  clients: number
  operations: number
  seconds: number
  operationsPerSecond: number
  latency: Partial<Record<YcsbOperation, LatencySummary>>
}

/** The YCSB part's results file. */
export interface YcsbResults extends RunRecord {
  benchmark: 'ycsb'
  records: number
  valueBytes: number
  /** How long each cell runs: clients start no new operation after this. */
  secondsPerCell: number
  clients: number[]
  workloads: { name: YcsbWorkloadName; description: string }[]
  /** Seconds each store took to load its records, in batches of 1,000. */
  loadSeconds: Partial<Record<ThroughputName, number>>
  cells: YcsbCell[]
}

/** Issues `request` on `store`; resolves when the store has answered. */
async function issue(store: ThroughputStore, request: YcsbRequest): Promise<void> {
  switch (request.operation) {
    case 'read':
      await store.get(request.key)
      return
    case 'update':
    case 'insert':
      return store.put(request.key, request.value, true)
    case 'read-modify-write': {
      const old = (await store.get(request.key)) as Buffer | undefined
      // The modification: the new value keeps the old one's first bytes, as a field update would.
      const value = Buffer.from(request.value)
      old?.copy(value, 0, 0, 8)
      return store.put(request.key, value, true)
    }
    case 'scan':
      await store.scan(request.key, request.scanLength)
      return
  }
}

/** A histogram of nanoseconds from 1 ns up, three significant digits, growing as a slow outlier needs. */
function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3, autoResize: true })
}

/**
 * A histogram's figures in microseconds. A percentile is the top of its bucket (at most 0.1 %
 * above the times in it), so it is capped at the largest time recorded, which is exact.
 */
function summarise(h: Histogram): LatencySummary {
  const us = (ns: number) => ns / 1000
  const at = (percentile: number) => us(Math.min(h.getValueAtPercentile(percentile), h.maxValue))
  return { count: h.totalCount, mean: us(h.mean), p50: at(50), p99: at(99), p999: at(99.9), max: us(h.maxValue) }
}

/** Runs `workload` with `clients` clients on `store` for `seconds`. */
async function runCell(store: ThroughputStore, keys: YcsbKeySpace, workload: YcsbWorkload, clients: number, seconds: number): Promise<YcsbCell> {
  const histograms = new Map<YcsbOperation, Histogram>()
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9))
  let operations = 0
  const elapsed = await runClients(
    clients,
    () => process.hrtime.bigint() < deadline,
    async () => {
      const request = keys.next(workload)
      const started = process.hrtime.bigint()
      await issue(store, request)
      const ns = Number(process.hrtime.bigint() - started)
      let h = histograms.get(request.operation)
      if (!h) histograms.set(request.operation, (h = latencyHistogram()))
      h.recordValue(Math.max(1, ns))
      operations++
    },
  )
  const latency: YcsbCell['latency'] = {}
  for (const operation of YCSB_OPERATIONS) {
    const h = histograms.get(operation)
    if (h) latency[operation] = summarise(h)
  }
  return { store: store.name, workload: workload.name, clients, operations, seconds: elapsed, operationsPerSecond: operations / elapsed, latency }
}

function report(results: YcsbResults): void {
  console.log(`\noperations per second, ${results.records.toLocaleString('en-US')} records, ${results.secondsPerCell} s per cell, durable writes`)
  console.log(
    table(
      ['workload', 'clients', ...CLIENT_STORES],
      results.workloads.flatMap((w) =>
        results.clients.map((c) => [w.name, String(c), ...CLIENT_STORES.map((s) => formatRate(results.cells.find((x) => x.store === s && x.workload === w.name && x.clients === c)?.operationsPerSecond))]),
      ),
    ),
  )
  const ms = (us: number | undefined) => (us === undefined ? '—' : (us / 1000).toFixed(us < 10_000 ? 2 : 0))
  console.log('\nlatency in ms, p50 / p99 / p99.9 / max, by workload, clients and operation type')
  console.log(
    table(
      ['workload', 'clients', 'operation', ...CLIENT_STORES],
      results.workloads.flatMap((w) =>
        results.clients.flatMap((c) =>
          YCSB_OPERATIONS.filter((o) => results.cells.some((x) => x.workload === w.name && x.latency[o])).map((o) => [
            w.name,
            String(c),
            o,
            ...CLIENT_STORES.map((s) => {
              const l = results.cells.find((x) => x.store === s && x.workload === w.name && x.clients === c)?.latency[o]
              return l ? [l.p50, l.p99, l.p999, l.max].map(ms).join(' / ') : '—'
            }),
          ]),
        ),
      ),
    ),
  )
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      records: { type: 'string' },
      seconds: { type: 'string' },
      clients: { type: 'string' },
      dir: { type: 'string', default: tmpdir() },
      out: { type: 'string', default: 'bench/results/ycsb.json' },
    },
  })
  const quick = args.quick === true
  const records = Number(args.records ?? (quick ? 2000 : FULL_RUN_RECORDS))
  const seconds = Number(args.seconds ?? (quick ? 0.05 : 5))
  const clients = (args.clients ?? (quick ? '1,16' : '1,16,64,256')).split(',').map(Number)
  if (!(records >= 2) || !(seconds > 0) || !clients.every((c) => Number.isInteger(c) && c >= 1)) throw new RangeError('--records must be at least 2, --seconds positive, --clients whole numbers of at least 1')
  console.log(`YCSB: ${records.toLocaleString('en-US')} records of 100 bytes, workloads ${YCSB_WORKLOADS.map((w) => w.name).join(' ')}, ${clients.join(', ')} clients, ${seconds} s per cell, durable writes; ${CLIENT_STORES.join(', ')}`)
  const root = mkdtempSync(join(args.dir as string, 'strata-ycsb-'))
  const progress = partProgress()
  progress.stage('ycsb: cells', CLIENT_STORES.length * YCSB_WORKLOADS.length * clients.length)
  const cells: YcsbCell[] = []
  const loadSeconds: YcsbResults['loadSeconds'] = {}
  try {
    for (const name of CLIENT_STORES) {
      const dir = join(root, name.replace(/\W+/g, '-'))
      const store = await openThroughputStore(name, dir)
      try {
        loadSeconds[name] = await loadStore(store, records)
        // Every store sees the same requests in the same order (up to the clients' interleaving).
        const keys = new YcsbKeySpace(records)
        for (const workload of YCSB_WORKLOADS) {
          for (const c of clients) {
            ;(globalThis as { gc?: () => void }).gc?.()
            cells.push(await runCell(store, keys, workload, c, seconds))
            progress.tick()
          }
        }
      } finally {
        await store.close()
        removeFolder(dir)
      }
    }
  } finally {
    removeFolder(root)
    progress.stop()
  }
  const results: YcsbResults = {
    benchmark: 'ycsb',
    ...runRecord(quick),
    records,
    valueBytes: 100,
    secondsPerCell: seconds,
    clients,
    workloads: YCSB_WORKLOADS.map((w) => ({ name: w.name, description: w.description })),
    loadSeconds,
    cells,
  }
  report(results)
  writeJson(args.out as string, results)
  console.log(`\nwrote ${args.out}`)
}

await main()
