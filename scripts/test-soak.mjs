#!/usr/bin/env node
// The soak (packages/testkit/src/soak.ts) from the built packages: mixed writes over a 20,000-key
// working set with 16 live snapshots (half of them named where the engine keeps named snapshots),
// reports over them, compactions and the engines' own checkpoints and reclamation, on a real
// folder. Prints RSS and the folder's bytes over time; exits 1 if either grows without bound
// (after the first third of a run, the largest sample of its last third may exceed the largest of
// its middle third by at most 25 %), if a read is wrong, if check() fails after a reopen, or if
// the run is too short to judge (the first third must outlast the snapshots taken at the start).
//
//   pnpm test:soak                         every engine for 60 s
//   pnpm test:soak --seconds 600           every engine for 10 minutes
//   pnpm test:soak --engine row --seconds 300
//
// The engines soak side by side, each in a process of its own (with --expose-gc), so one
// engine's memory does not count against another's and the run takes `--seconds` in all.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ENGINES = ['row', 'cow-shared', 'cow-per-snapshot']
/** Tuning close to a real database's, but small enough that checkpoints, segment cleaning and WAL resets come often. */
const CHECKPOINT = { minLogBytes: 256 * 1024, maxLogBytes: 4 * 1024 * 1024 }

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    engine: { type: 'string' },
    child: { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
if (!(seconds > 0)) throw new RangeError('--seconds must be a positive number')
if (values.engine !== undefined && !ENGINES.includes(values.engine)) throw new RangeError(`--engine must be one of ${ENGINES.join(', ')}`)

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

if (values.child) await soakOne(values.engine, seconds)
else await soakAll(values.engine === undefined ? ENGINES : [values.engine], seconds)

/** Runs each engine's soak in a child process of its own, all at once, and sums up. */
async function soakAll(engines, seconds) {
  console.log(`soak: ${engines.join(', ')} side by side for ${seconds} s`)
  const results = await Promise.all(engines.map((engine) => soakInChild(engine, seconds)))
  console.log('\nengine            batches  snapshots  reports  RSS middle → last third      files middle → last third    failures')
  let failures = 0
  for (const { engine, status, result } of results) {
    if (!result) {
      console.log(`${engine.padEnd(17)} the soak process exited with status ${status} before reporting`)
      failures++
      continue
    }
    const growth = (g) => `${mib(g.middleMax)} → ${mib(g.lastMax)} (${g.growth >= 0 ? '+' : ''}${(g.growth * 100).toFixed(1)} %)`
    console.log(
      `${engine.padEnd(17)} ${String(result.batches).padStart(7)}  ${String(result.snapshots.inProcess + result.snapshots.named).padStart(9)}  ${String(result.reports).padStart(7)}  ${growth(result.rss).padEnd(28)} ${growth(result.fileBytes).padEnd(28)} ${result.failures.length}`,
    )
    for (const failure of result.failures) console.log(`  ${failure.split('\n')[0]}`)
    failures += result.failures.length
  }
  console.log(failures === 0 ? 'no failures' : `${failures} failures`)
  process.exitCode = failures === 0 ? 0 : 1
}

/** Soaks `engine` in a child process, passing on its lines; resolves with its report (undefined if it died first). */
async function soakInChild(engine, seconds) {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', '--engine', engine, '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let result
  let pending = ''
  child.stdout.on('data', (chunk) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7))
      else console.log(line)
    }
  })
  const status = await new Promise((resolve) => child.once('close', resolve))
  return { engine, status, result }
}

/** Soaks one engine in this process and prints its samples, then its report as one `RESULT` line. */
async function soakOne(engine, seconds) {
  const { soak } = await import('../packages/testkit/dist/index.js')
  const { NodeFileSystem } = await import('../packages/storage/dist/index.js')
  const { RowEngine } = await import('../packages/row-engine/dist/index.js')
  const { CowEngine } = await import('../packages/cow-engine/dist/index.js')
  const open =
    engine === 'row'
      ? (fs) => RowEngine.open({ fs, segmentBytes: 1024 * 1024, checkpoint: CHECKPOINT })
      : (fs) => CowEngine.open({ fs, store: engine === 'cow-shared' ? 'shared' : 'per-snapshot', checkpoint: CHECKPOINT })
  const folder = mkdtempSync(join(tmpdir(), `strata-soak-${engine}-`))
  let nextLine = 0
  try {
    const report = await soak({
      folder,
      open,
      fileSystem: (path) => new NodeFileSystem(path),
      seconds,
      onSample: (s) => {
        if (s.seconds < nextLine) return
        nextLine += seconds / 12
        console.log(`${engine.padEnd(17)} ${s.seconds.toFixed(1).padStart(6)} s  RSS ${mib(s.rss).padStart(10)}  heap ${mib(s.heapUsed).padStart(9)}  files ${mib(s.fileBytes).padStart(9)}  seq ${s.seq}`)
      },
    })
    const { samples, fileTrace, ...summary } = report
    console.log(`RESULT ${JSON.stringify({ ...summary, samples: samples.length, fileSamples: fileTrace.length })}`)
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}
