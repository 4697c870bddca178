/**
 * The process a kill campaign kills (run from dist by `node`): it opens the database in a folder
 * through a factory it imports, then writes durable batches for ever, reporting each one on stdout
 * once its write has resolved, and keeps snapshots open while it writes, checking that each still
 * reads the state it pinned. Lines are JSON: `{"ready":n}` after the open (n: the last batch the
 * database holds), `{"ack":n}` per batch, `{"error":"…"}` before exiting on a failure.
 *
 * Arguments: the factory's module and export name, the folder, the workload seed, and the share
 * of batches to write with `sync: false` (acknowledged with `"unsynced":true`; default 0).
 */
import type { EngineSnapshot } from '@strata/btree'
import { NodeFileSystem } from '@strata/storage'
import { type EngineFactory, readAll } from './engine-factory.js'
import { fingerprint } from './model.js'
import { randomFor, seededRandom } from './random.js'
import { BATCH_MARKER, batchMarker, markedBatch } from './workload.js'

/** Writes one report line; stdout to a pipe is synchronous on Linux, so a line written is a line delivered, kill or not. */
function report(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

async function main(): Promise<void> {
  const [module, exportName, folder, seedText, unsyncedText = '0'] = process.argv.slice(2)
  if (module === undefined || exportName === undefined || folder === undefined || seedText === undefined) {
    throw new TypeError('usage: kill-child <factory module> <export name> <folder> <seed> [unsynced share]')
  }
  const seed = Number(seedText)
  const unsynced = Number(unsyncedText)
  const factory = (await import(module))[exportName] as EngineFactory
  const engine = await factory.open(new NodeFileSystem(folder), { small: true })
  let batch = batchMarker(engine.get(BATCH_MARKER))
  report({ ready: batch })
  // The snapshot choices vary from run to run; the batches depend only on their numbers.
  const rand = seededRandom(seed ^ (batch * 2654435761))
  const snapshots: { snapshot: EngineSnapshot; state: string }[] = []
  for (;;) {
    batch++
    const sync = randomFor(seed ^ 0x2545f491, batch)() >= unsynced
    await engine.write(markedBatch(seed, batch), { sync })
    report(sync ? { ack: batch } : { ack: batch, unsynced: true })
    const step = rand()
    if (step < 0.15 && snapshots.length < 4) {
      const snapshot = engine.snapshot()
      snapshots.push({ snapshot, state: fingerprint(readAll(engine, snapshot)) })
    } else if (step < 0.27 && snapshots.length > 0) {
      const oldest = snapshots.shift()
      if (oldest && fingerprint(readAll(engine, oldest.snapshot)) !== oldest.state) throw new Error(`a snapshot at seq ${oldest.snapshot.seq} no longer reads the state it pinned`)
      oldest?.snapshot.release()
    } else if (step < 0.3) {
      await engine.compact()
    }
  }
}

main().catch((error: unknown) => {
  report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
