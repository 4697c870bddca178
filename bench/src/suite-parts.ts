/**
 * The suite's parts: which script each runs, with which arguments in a full and in a quick run,
 * and which results file it writes. Each part runs in a process of its own, so no part's heap,
 * garbage or native memory falls on the next.
 */
import { join } from 'node:path'
import type { PartName, SuiteOptions } from './suite-options.js'

/** How to run one part. */
export interface PartSpec {
  name: PartName
  /** What it measures, for progress lines and the docs. */
  title: string
  /** The compiled script, in bench/dist. */
  script: string
  /** The results file it writes, in the results folder. */
  result: string
  /** Its arguments, given the suite's options and the results folder. */
  args(options: SuiteOptions, out: string): string[]
  /** The root script that runs this part alone, as the docs quote it. */
  command: string
}

/** Every part, in the order the suite runs them. */
export const PART_SPECS: readonly PartSpec[] = [
  {
    name: 'engine',
    title: 'engine benchmark (ROW engine beside lmdb, level, memory-level)',
    script: 'engine-bench.js',
    result: 'engine.json',
    args: ({ quick, dir }, out) => ['--keys', quick ? '5000' : '1000000', '--rounds', quick ? '1' : '5', '--dir', dir, '--out', join(out, 'engine.json')],
    command: 'pnpm bench:engine',
  },
  {
    name: 'level',
    title: 'abstract-level benchmark (StrataLevel beside classic-level)',
    script: 'level-bench.js',
    result: 'level.json',
    args: ({ quick, dir }, out) => ['--keys', quick ? '5000' : '1000000', '--rounds', quick ? '1' : '5', '--dir', dir, '--out', join(out, 'level.json')],
    command: 'pnpm bench:level',
  },
  {
    name: 'snapshots',
    title: 'named snapshots on the ROW engine (creation, diff)',
    script: 'snapshot-bench.js',
    result: 'snapshots.json',
    args: ({ quick, dir }, out) => ['--keys', quick ? '5000' : '1000000', '--rounds', quick ? '1' : '5', '--dir', dir, '--out', join(out, 'snapshots.json')],
    command: 'pnpm bench:snapshots',
  },
  {
    name: 'cow',
    title: 'copy-before-write check (every page overwritten once)',
    script: 'cow-bench.js',
    result: 'cow.json',
    args: ({ quick }, out) => ['--keys', quick ? '2000' : '20000', '--out', join(out, 'cow.json')],
    command: 'pnpm bench:cow',
  },
  {
    name: 'study',
    title: 'write-amplification study (ROW, COW per-snapshot, COW shared)',
    script: 'amplification-study.js',
    result: 'study.json',
    args: ({ quick }, out) => [...(quick ? ['--quick'] : []), '--out', join(out, 'study.json')],
    command: 'pnpm bench:study',
  },
  {
    name: 'peers',
    title: 'peers on one ruler (block device counter)',
    script: 'peer-amplification.js',
    result: 'peers.json',
    args: ({ quick, dir, peersDir }, out) => [...(quick ? ['--quick'] : []), '--dir', peersDir ?? dir, '--out', join(out, 'peers.json')],
    command: 'pnpm bench:peers',
  },
  {
    name: 'sustained',
    title: 'sustained writes: ROW and level over ten times the database in overwrites (block device counter)',
    script: 'sustained.js',
    result: 'sustained.json',
    args: ({ quick, dir, peersDir }, out) => [...(quick ? ['--quick'] : []), '--dir', peersDir ?? dir, '--out', join(out, 'sustained.json')],
    command: 'pnpm bench:sustained',
  },
  {
    name: 'throughput',
    title: 'throughput with benny (Strata, lmdb, level, memory-level)',
    script: 'throughput.js',
    result: 'throughput.json',
    args: ({ quick, dir }, out) => [...(quick ? ['--quick'] : []), '--dir', dir, '--out', join(out, 'throughput.json')],
    command: 'pnpm bench:throughput',
  },
  {
    name: 'concurrency',
    title: 'independent puts with 1 to 256 writers in flight (StrataLevel, level, lmdb, memory-level)',
    script: 'concurrency.js',
    result: 'concurrency.json',
    args: ({ quick, dir }, out) => [...(quick ? ['--quick'] : []), '--dir', dir, '--out', join(out, 'concurrency.json')],
    command: 'pnpm bench:concurrency',
  },
  {
    name: 'ycsb',
    title: 'YCSB workloads A to F with 1 to 256 clients, latency percentiles (StrataLevel, level, lmdb, memory-level)',
    script: 'ycsb.js',
    result: 'ycsb.json',
    args: ({ quick, dir }, out) => [...(quick ? ['--quick'] : []), '--dir', dir, '--out', join(out, 'ycsb.json')],
    command: 'pnpm bench:ycsb',
  },
  {
    name: 'restart',
    title: 'restart after SIGKILL during durable writes (Strata ROW and COW, level, lmdb) and the ROW restart / write-amplification frontier',
    script: 'restart.js',
    result: 'restart.json',
    args: ({ quick, dir }, out) => [...(quick ? ['--quick'] : []), '--dir', dir, '--out', join(out, 'restart.json')],
    command: 'pnpm bench:restart',
  },
  {
    name: 'clone',
    title: 'clone time and bytes written against size (ROW by hard link and by copy, COW, export) and the first overwrites on a clone',
    script: 'clone-bench.js',
    result: 'clone.json',
    args: ({ quick, dir }, out) => [...(quick ? ['--quick'] : []), '--dir', dir, '--out', join(out, 'clone.json')],
    command: 'pnpm bench:clone',
  },
]
