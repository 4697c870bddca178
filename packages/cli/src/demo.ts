import { statSync } from 'node:fs'
import type { EngineStats } from '@strata/btree'
import { ErrorCode, NodeFileSystem, PURPOSES } from '@strata/storage'
import { engineOf, StrataLevel } from 'strata'
import { CliError, CliErrorCode } from './cli-error.js'
import { progressBar } from './progress.js'

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The database folder. */
  dir: string
  /** How many orders to write. */
  orders: number
  /** How many writes land while the report runs. */
  concurrentWrites: number
  /** Where the demo prints to. */
  out?: (line: string) => void
}

/** What the demo found, for callers and tests. */
export interface DemoResult {
  /** Totals by region as the report over the snapshot computed them. */
  report: Record<string, number>
  /** Totals by region at the snapshot's moment, as the writer kept them. */
  atSnapshot: Record<string, number>
  /** Totals by region in the database after the concurrent writes. */
  head: Record<string, number>
  /** Writes made by the concurrent writer. */
  writesDuringReport: number
  /** Of those, the ones that landed before the report finished. */
  writesBeforeReportDone: number
  stats: EngineStats
}

interface Order {
  id: number
  customer: string
  region: string
  items: number
  /** In cents. */
  total: number
  placedAt: string
}

const REGIONS = ['north', 'south', 'east', 'west', 'central']

/** A deterministic order, so every run of the demo writes the same data set. */
function makeOrder(id: number, revision = 0): Order {
  const n = Math.imul(id + revision * 7919, 2654435761) >>> 0
  return {
    id,
    customer: `customer-${(n % 5000).toString().padStart(4, '0')}`,
    region: REGIONS[n % REGIONS.length] as string,
    items: 1 + (n % 9),
    total: 500 + (n % 50_000),
    placedAt: new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString(),
  }
}

const orderKey = (id: number) => `order:${id.toString().padStart(8, '0')}`

function addTo(totals: Record<string, number>, order: Order, sign = 1): void {
  totals[order.region] = (totals[order.region] ?? 0) + sign * order.total
}

/** Sums order totals by region; `yieldEvery` lets other work run between chunks, as a long report would. */
async function sumOrders(iterator: AsyncIterable<[string, Order]>, yieldEvery = Number.POSITIVE_INFINITY): Promise<Record<string, number>> {
  const totals: Record<string, number> = {}
  let n = 0
  for await (const [, order] of iterator) {
    addTo(totals, order)
    if (++n % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  return totals
}

/** The key the demo writes first into every database it makes, so a later run knows the folder for its own. */
const DEMO_MARK = 'strata-demo:made-by'

/**
 * Refuses `dir` unless the demo may write there: a missing or empty folder, a folder without a
 * database, or one holding a database the demo made (or an empty one). The demo deletes every
 * `order:` key it finds, so anyone else's database is left alone. Reads only.
 */
async function assertDemoFolder(dir: string): Promise<void> {
  let isFolder: boolean
  try {
    isFolder = statSync(dir).isDirectory()
  } catch {
    return
  }
  if (!isFolder) throw new CliError(ErrorCode.NOT_A_DATABASE, `${dir} is a file, not a folder for the demo's database`)
  if (engineOf(new NodeFileSystem(dir, { readOnly: true })) === undefined) return
  const db = new StrataLevel(dir, { engineOptions: { readOnly: true } })
  try {
    if ((await db.get(DEMO_MARK)) !== undefined || (await db.keys({ limit: 1 }).all()).length === 0) return
  } finally {
    await db.close()
  }
  throw new CliError(CliErrorCode.NOT_A_DEMO_DATABASE, `${dir} holds a database the demo did not make, and the demo would change it: give --dir a new folder`)
}

const money = (cents: number) => `${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

/**
 * The demo: write a data set of orders, take a snapshot, run a report over the snapshot while
 * writes go on, show the report's totals are those of the snapshot's moment, and print the
 * engine's write amplification. It refuses a folder holding a database it did not make
 * (STRATA_NOT_A_DEMO_DATABASE).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.out ?? ((line: string) => console.log(line))
  await assertDemoFolder(options.dir)
  const db = new StrataLevel<string, Order>(options.dir, { valueEncoding: 'json' })
  await db.open()
  try {
    say(`Strata demo: a database in ${options.dir}`)
    await db.put<string, string>(DEMO_MARK, 'strata demo', { valueEncoding: 'utf8' })
    await db.clear({ gte: 'order:', lt: 'order;' })

    // 1. The data set, in durable batches.
    const totals: Record<string, number> = {}
    const writing = progressBar('writing orders', options.orders)
    for (let id = 0; id < options.orders; id += 1000) {
      const batch = db.batch()
      for (let i = id; i < Math.min(id + 1000, options.orders); i++) {
        const order = makeOrder(i)
        batch.put(orderKey(i), order)
        addTo(totals, order)
      }
      await batch.write()
      writing.update(Math.min(id + 1000, options.orders))
    }
    writing.stop()
    say(`wrote ${options.orders.toLocaleString('en-US')} orders`)

    // 2. A snapshot: instant, whatever the size.
    const started = process.hrtime.bigint()
    const snapshot = db.snapshot()
    const micros = Number(process.hrtime.bigint() - started) / 1000
    const atSnapshot = { ...totals }
    say(`took a snapshot in ${micros.toFixed(1)} µs`)

    // 3. The report reads the snapshot while a writer changes, adds and removes orders.
    let written = 0
    const writer = (async () => {
      for (let w = 0; w < options.concurrentWrites; w += 100) {
        const batch = db.batch()
        for (let j = w; j < Math.min(w + 100, options.concurrentWrites); j++) {
          const id = (j * 7) % options.orders
          if (j % 10 === 0) batch.del(orderKey(id))
          else if (j % 10 === 1) batch.put(orderKey(options.orders + j), makeOrder(options.orders + j))
          else batch.put(orderKey(id), makeOrder(id, j + 1))
          written++
        }
        await batch.write()
        await new Promise((resolve) => setImmediate(resolve))
      }
      return written
    })()
    let writesBeforeReportDone = 0
    const report = sumOrders(db.iterator({ gte: 'order:', lt: 'order;', snapshot }), 200).then((result) => {
      writesBeforeReportDone = written
      return result
    })
    const [writesDuringReport, reportTotals] = await Promise.all([writer, report])
    await snapshot.close()
    const head = await sumOrders(db.iterator({ gte: 'order:', lt: 'order;' }))

    // 4. What the report saw is exactly the snapshot's moment; the head has moved on.
    say(`\nreport over the snapshot (${writesBeforeReportDone.toLocaleString('en-US')} of ${writesDuringReport.toLocaleString('en-US')} concurrent writes landed before it finished):\n`)
    say(`${'region'.padEnd(10)}${'report'.padStart(18)}${'at snapshot'.padStart(18)}${'head now'.padStart(18)}`)
    for (const region of REGIONS) {
      say(`${region.padEnd(10)}${money(reportTotals[region] ?? 0).padStart(18)}${money(atSnapshot[region] ?? 0).padStart(18)}${money(head[region] ?? 0).padStart(18)}`)
    }
    const matches = REGIONS.every((r) => (reportTotals[r] ?? 0) === (atSnapshot[r] ?? 0))
    say(matches ? '\nthe report equals the state at the snapshot: writes after it were not seen' : '\nMISMATCH: the report does not equal the state at the snapshot')

    // 5. What it cost on disk.
    const stats = db.stats()
    const io = stats.io
    say(`\nwrite amplification: ${io.writeAmplification.toFixed(2)}× (${io.totalWritten.toLocaleString('en-US')} bytes written for ${io.userBytes.toLocaleString('en-US')} bytes of keys and values)`)
    say(`  by purpose: ${PURPOSES.filter((p) => io.bytesWritten[p] > 0).map((p) => `${p} ${io.bytesWritten[p].toLocaleString('en-US')}`).join(', ')}`)
    say(`file bytes ${stats.fileBytes.toLocaleString('en-US')}, live bytes ${stats.liveBytes.toLocaleString('en-US')}, ${io.syncs} syncs`)
    if (!matches) throw new Error('the report over the snapshot did not match the snapshot')
    return { report: reportTotals, atSnapshot, head, writesDuringReport, writesBeforeReportDone, stats }
  } finally {
    await db.close()
  }
}
