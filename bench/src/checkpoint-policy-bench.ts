/**
 * How the redirect-on-write engine's checkpoint policy trades write amplification against the
 * log recovery must replay: the same durable workload under several `ratio` settings.
 *
 *   node bench/dist/checkpoint-policy-bench.js [--keys 200000] [--batches 600] [--out bench/results/checkpoint-policy.json]
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { benchKey, benchValue, random, table } from './harness.js'
import { removeFolder } from './stores.js'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    batches: { type: 'string', default: '600' },
    out: { type: 'string', default: 'bench/results/checkpoint-policy.json' },
  },
})
const KEYS = Number(args.keys)
const BATCHES = Number(args.batches)
const RATIOS = [0.25, 0.5, 1, 2, 4]

async function run(ratio: number, root: string) {
  const dir = join(root, `ratio-${ratio}`)
  const fs = new NodeFileSystem(dir, { create: true })
  const checkpoint = { ratio, minLogBytes: 1024 * 1024 }
  let engine = await RowEngine.open({ fs, checkpoint })
  for (let at = 0; at < KEYS; at += 10_000) {
    await engine.write(Array.from({ length: 10_000 }, (_, i) => ({ type: 'put' as const, key: benchKey(at + i), value: benchValue(at + i, 0) })), { sync: false })
  }
  await engine.close()
  engine = await RowEngine.open({ fs: new NodeFileSystem(dir), checkpoint })
  const rand = random(5)
  const batches = Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: 1000 }, () => {
      const i = Math.floor(rand() * KEYS)
      return { type: 'put' as const, key: benchKey(i), value: benchValue(i, b + 1) }
    }),
  )
  const before = engine.stats()
  const start = process.hrtime.bigint()
  for (const batch of batches) await engine.write(batch)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const after = engine.stats()
  // What a crash now would leave recovery to replay: a copy of the folder as it stands.
  const image = join(root, `image-${ratio}`)
  mkdirSync(image)
  for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
  const written = after.io.totalWritten - before.io.totalWritten
  const user = after.io.userBytes - before.io.userBytes
  await engine.close()
  const recoverStart = process.hrtime.bigint()
  const recovered = await RowEngine.open({ fs: new NodeFileSystem(image), checkpoint })
  const recoverMs = Number(process.hrtime.bigint() - recoverStart) / 1e6
  await recovered.close()
  return {
    ratio,
    writeAmplification: written / user,
    pageBytesPerUserByte: (after.io.bytesWritten.page - before.io.bytesWritten.page) / user,
    putsPerSecond: (BATCHES * 1000) / seconds,
    checkpoints: after.checkpoints - before.checkpoints,
    recoverMs,
  }
}

const root = mkdtempSync(join(tmpdir(), 'strata-checkpoint-policy-'))
try {
  const results = []
  for (const ratio of RATIOS) results.push(await run(ratio, root))
  console.log(`checkpoint policy: ${KEYS.toLocaleString()} keys, ${BATCHES} durable batches of 1,000 random overwrites, minLogBytes 1 MiB`)
  console.log(
    table(
      ['ratio', 'write amplification', 'page bytes / user byte', 'puts/s', 'checkpoints', 'recovery after the run (ms)'],
      results.map((r) => [String(r.ratio), `${r.writeAmplification.toFixed(2)}×`, r.pageBytesPerUserByte.toFixed(2), Math.round(r.putsPerSecond).toLocaleString(), String(r.checkpoints), r.recoverMs.toFixed(0)]),
    ),
  )
  mkdirSync(dirname(args.out), { recursive: true })
  writeFileSync(args.out, `${JSON.stringify({ date: new Date().toISOString(), keys: KEYS, batches: BATCHES, results }, null, 2)}\n`)
} finally {
  removeFolder(root)
}
