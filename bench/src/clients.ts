/**
 * Concurrent clients as a server's request handlers are: each issues one operation, awaits it,
 * then issues the next, and many do so at once on one event loop. With the stores they call and
 * the cells of the concurrency part, which its script and its docs section share.
 */
import type { ConcurrencyResults, ConcurrencyRun } from './concurrency.js'
import type { ThroughputName } from './throughput-stores.js'

/** The stores that concurrent clients call: Strata through StrataLevel on both engines, and its peers. */
export const CLIENT_STORES: readonly ThroughputName[] = ['StrataLevel row', 'StrataLevel cow', 'level', 'lmdb', 'memory-level']

/** The Strata stores among {@link CLIENT_STORES}, and the on-disk peers they are held against. */
export const STRATA_CLIENT_STORES = ['StrataLevel row', 'StrataLevel cow'] as const
export const DISK_PEERS = ['level', 'lmdb'] as const

/**
 * Runs `clients` clients at once. Each calls `operation` and awaits it, again and again, for as
 * long as `more()` says there is work. Returns the seconds from the first call to the last answer.
 */
export async function runClients(clients: number, more: () => boolean, operation: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint()
  const client = async () => {
    while (more()) await operation()
  }
  await Promise.all(Array.from({ length: clients }, client))
  return Number(process.hrtime.bigint() - started) / 1e9
}

/** How many writers are in flight, and whether each put is durable. */
export interface ConcurrencyCell {
  inFlight: number
  durable: boolean
}

/** The cells of the issue's table, in reporting order. */
export const CONCURRENCY_CELLS: readonly ConcurrencyCell[] = [
  { inFlight: 1, durable: true },
  { inFlight: 16, durable: true },
  { inFlight: 256, durable: true },
  { inFlight: 64, durable: false },
]

/** A cell as the tables name it. */
export function cellLabel(cell: ConcurrencyCell): string {
  return `${cell.durable ? 'durable' : '`sync: false`'}, ${cell.inFlight} in flight`
}

/** The run of `store` in `cell`, if there is one. */
export function findRun(results: ConcurrencyResults, store: ThroughputName, cell: ConcurrencyCell): ConcurrencyRun | undefined {
  return results.runs.find((r) => r.store === store && r.inFlight === cell.inFlight && r.durable === cell.durable)
}
