#!/usr/bin/env node
// Runs the reliability campaigns of @strata/testkit on every engine (ROW and both COW modes), from the built packages, and
// prints their counts; exits 1 if any campaign found a failure. `pnpm test:crash` runs the sizes
// of the default test suite; `pnpm test:crash --long` runs long ones. Knobs (each overrides the
// size it names): --commits N (per crash-state run), --seeds N (crash-state and fault runs, each
// its own seed), --seed N (the first seed), --kills N, --mutations N, --cases N and --steps N (per
// fault run), --runs N (disk-full children), --clones N (clones made, each crashed at every point),
// --writers N (the most commits a crash-state run issues at once; 4, or 32 with --long),
// --only crash,snapshots,clone,kill,corrupt,faults,full.
import { parseArgs } from 'node:util'
import { cloneCrashCampaign, corruptionCampaign, crashCampaign, describeTally, snapshotCrashCampaign, diskFullCampaign, faultCampaign, killCampaign } from '../packages/testkit/dist/index.js'
import { cowFactories, rowFactory } from '../packages/engine-factories/dist/index.js'

/** The engines the campaigns run on; a new engine's factory (with a `location`) joins here. */
const FACTORIES = [rowFactory, ...cowFactories]

const { values } = parseArgs({
  options: {
    long: { type: 'boolean', default: false },
    commits: { type: 'string' },
    seeds: { type: 'string' },
    seed: { type: 'string' },
    kills: { type: 'string' },
    mutations: { type: 'string' },
    cases: { type: 'string' },
    steps: { type: 'string' },
    runs: { type: 'string' },
    clones: { type: 'string' },
    writers: { type: 'string' },
    only: { type: 'string' },
  },
})
const size = (name, quick, long) => {
  const value = values[name] === undefined ? (values.long ? long : quick) : Number(values[name])
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`--${name} must be a whole number`)
  return value
}
const commits = size('commits', 200, 1000)
const seeds = size('seeds', 2, 10)
const firstSeed = size('seed', 7, 7)
const kills = size('kills', 60, 300)
const mutations = size('mutations', 1200, 10_000)
const cases = size('cases', 150, 1000)
const steps = size('steps', 60, 120)
const runs = size('runs', 4, 20)
const clones = size('clones', 8, 40)
const writers = size('writers', 4, 32)
const only = new Set((values.only ?? 'crash,snapshots,clone,kill,corrupt,faults,full').split(','))

let failures = 0
const show = (name, report, line) => {
  console.log(`${name}: ${line}; ${report.failures.length} failures`)
  for (const failure of report.failures.slice(0, 20)) console.log(`  ${failure.split('\n')[0]}`)
  failures += report.failures.length
}

for (const factory of FACTORIES) {
  if (only.has('crash')) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const started = Date.now()
      const r = await crashCampaign(factory, { commits, seed, writers })
      const w = r.workload
      // A campaign that never met a sync in flight, a reordering or a lost entry tested a kinder disk.
      if (r.tally.syncsInFlight === 0 || r.tally.reordered === 0 || r.tally.lostEntries === 0) r.failures.push('the crash states were kinder than a real disk (see the counts)')
      show(`${factory.name} crash states, seed ${seed}`, r, `${r.commits} commits (${w.unsyncedCommits} sync: false, ${w.concurrentCommits} issued before the one before resolved, runs of up to ${w.largestRun}, ${w.largeValues} large values), ${w.snapshots} snapshots, ${w.cursors} cursors, ${w.compactions} compactions, ${w.checkpoints} checkpoints, ${w.reopens} reopens; ${r.points} crash points, ${describeTally(r.tally)}; ${r.recoveries} distinct disks opened (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    }
  }
  if (only.has('snapshots')) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const started = Date.now()
      const r = await snapshotCrashCampaign(factory, { operations: commits, seed })
      show(`${factory.name} named snapshots under crashes, seed ${seed}`, r, `${r.operations} operations (${r.concurrent} issued before the one before resolved); ${describeTally(r.tally)}; ${r.recoveries} distinct disks opened (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    }
  }
  if (only.has('clone')) {
    const started = Date.now()
    const r = await cloneCrashCampaign(factory, { clones, seed: firstSeed })
    if (r.tally.syncsInFlight === 0 || r.tally.reordered === 0 || r.tally.lostEntries === 0) r.failures.push('the crash states were kinder than a real disk (see the counts)')
    show(`${factory.name} clones under crashes`, r, `${r.clones} clones (${r.ofNamed} of a named snapshot, ${r.withSnapshots} keeping snapshots, ${r.linked} linking files); clone folders: ${r.targetStates} crash states, ${r.opened} distinct disks opened as the whole clone, ${r.refused} refused with a code; ${r.sourceStates} source states; ${describeTally(r.tally)} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  }
  if (only.has('kill')) {
    const r = await killCampaign(factory, { kills, seed: firstSeed })
    show(`${factory.name} kills`, r, `${r.kills} kills (${r.killedOpening} while opening, ${r.killedWriting} while writing), ${r.acknowledged} batches acknowledged, ${r.inFlightKept} unacknowledged batches found whole, ${r.lockRefusals} opens refused with LEVEL_LOCKED`)
  }
  if (only.has('corrupt')) {
    const r = await corruptionCampaign(factory, { mutations, seed: firstSeed })
    const o = r.outcomes
    show(`${factory.name} damaged files`, r, `${mutations} damaged databases (${Object.entries(r.damage).map(([k, n]) => `${n} ${k}`).join(', ')}; ${Object.entries(r.files).map(([k, n]) => `${n} in ${k}`).join(', ')}): ${o.intact} intact, ${o.rolledBack} rolled back, ${o.readErrors} with clean read errors, ${o.refused} refused; ${r.reads} values compared`)
  }
  if (only.has('faults')) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      // Each seed twice: ending with a close, and ending with a power loss.
      for (const crash of [false, true]) {
        const started = Date.now()
        const r = await faultCampaign(factory, { cases, steps, seed, crash })
        const i = r.injected
        show(`${factory.name} failing disk${crash ? ', then power loss' : ''}, seed ${seed}`, r, `${r.cases} cases over ${r.operations} operations; ${i.write + i.sync + i.truncate} faults injected (${i.write} writes, ${i.sync} syncs, ${i.truncate} truncations; ${i.ENOSPC} ENOSPC, ${i.EIO} EIO; ${i.shortWrites} short writes); ${r.acknowledged} calls acknowledged, ${r.rejected} rejected with STRATA_IO_ERROR, ${r.readChecks} read checks, ${r.failedOpens} opens and ${r.failedCloses} closes failed under faults, ${r.inDoubtKept} rejected calls found whole after a reopen${crash ? `, ${r.crashStates} disks recovered after the power loss` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      }
    }
  }
  if (only.has('full') && factory.location) {
    const r = await diskFullCampaign(factory, { runs, seed: firstSeed })
    show(`${factory.name} full disk (ulimit -f)`, r, `${r.runs} processes, ${r.acknowledged} batches acknowledged, ${r.refusedWrites} writes refused with STRATA_IO_ERROR (EFBIG), closes: ${r.closes.ok} clean, ${r.closes.rejected} rejected with STRATA_IO_ERROR; ${r.lockRefusals} opens refused with LEVEL_LOCKED`)
  }
}
console.log(failures === 0 ? 'no failures' : `${failures} failures`)
process.exitCode = failures === 0 ? 0 : 1
