/**
 * The process a disk-full campaign runs under a file size limit (`ulimit -f`), so that the real
 * file system fails its writes with EFBIG as a full disk fails them with ENOSPC. It opens the
 * database in a folder through a factory it imports and writes heavy durable batches until one
 * fails; then it checks that reads still give exactly the acknowledged batches, tries one more
 * small write, and closes. It starts writing once its parent says so on stdin. Lines on stdout are JSON: `{"ready":n,"limit":bytes}` after the open,
 * `{"ack":n}` per batch, `{"failed":n,"code":…,"error":…}` for the write that failed,
 * `{"reads":"ok"|…}`, `{"again":"ok"|code}`, `{"closed":"ok"|code,"error":…}`, or
 * `{"crashed":…}` if anything else goes wrong.
 *
 * Arguments: the factory's module and export name, the folder, the workload seed.
 */
import { NodeFileSystem } from '@strata/storage'
import { AFTER_FULL_KEY } from './disk-full-campaign.js'
import { type EngineFactory, readAll } from './engine-factory.js'
import { codeOf, messageChain } from './error-codes.js'
import { fingerprint, Model } from './model.js'
import { BATCH_MARKER, batchMarker, heavyBatch } from './workload.js'

function report(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

/** The file size limit this process runs under, in bytes (Node reports RLIMIT_FSIZE in bytes). */
function fileSizeLimit(): number | string {
  const limits = (process.report.getReport() as { userLimits?: Record<string, { soft: number | string }> }).userLimits
  return limits?.file_size_blocks?.soft ?? 'unknown'
}

/** Waits for the parent's word (a line, or the end of stdin): it probes the lock first. */
function toldToGo(): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      process.stdin.destroy()
      resolve()
    }
    process.stdin.once('data', go).once('end', go)
  })
}

async function main(): Promise<void> {
  const [module, exportName, folder, seedText] = process.argv.slice(2)
  if (module === undefined || exportName === undefined || folder === undefined || seedText === undefined) {
    throw new TypeError('usage: disk-full-child <factory module> <export name> <folder> <seed>')
  }
  const seed = Number(seedText)
  const factory = (await import(module))[exportName] as EngineFactory
  const engine = await factory.open(new NodeFileSystem(folder))
  const model = new Model()
  let batch = batchMarker(engine.get(BATCH_MARKER))
  for (let n = 1; n <= batch; n++) model.apply(heavyBatch(seed, n))
  report({ ready: batch, limit: fileSizeLimit() })
  await toldToGo()
  for (;;) {
    const ops = heavyBatch(seed, batch + 1)
    try {
      await engine.write(ops)
    } catch (error) {
      report({ failed: batch + 1, code: codeOf(error), error: messageChain(error) })
      break
    }
    model.apply(ops)
    report({ ack: ++batch })
  }
  // Reads go on, and give exactly what was acknowledged.
  const found = fingerprint(readAll(engine))
  report({ reads: found === model.fingerprint() && batchMarker(engine.get(BATCH_MARKER)) === batch ? 'ok' : `the head does not hold batches 1 to ${batch}` })
  try {
    await engine.write([{ type: 'put', key: AFTER_FULL_KEY, value: Buffer.from('x') }])
    report({ again: 'ok' })
  } catch (error) {
    report({ again: codeOf(error) ?? 'uncoded', error: messageChain(error) })
  }
  try {
    await engine.close()
    report({ closed: 'ok' })
  } catch (error) {
    report({ closed: codeOf(error) ?? 'uncoded', error: messageChain(error) })
  }
}

main().catch((error: unknown) => {
  report({ crashed: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
