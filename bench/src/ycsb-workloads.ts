/**
 * YCSB's six core workloads (Cooper et al., "Benchmarking Cloud Serving Systems with YCSB", SoCC
 * 2010, and the workload files of its repository): which operations each issues in what shares,
 * and how each picks its keys. Records are benchmark keys 0 … n−1 (16 bytes, spread over the key
 * space so that key order is not rank order); inserts append records n, n+1, ….
 */
import { benchKey, random } from './harness.js'
import { incompressibleValue } from './workloads.js'
import { Zipfian } from './zipfian.js'

/** One of YCSB's core workloads. */
export type YcsbWorkloadName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F'

/** An operation type, as the latencies are kept per type. */
export type YcsbOperation = 'read' | 'update' | 'insert' | 'scan' | 'read-modify-write'

/** Every operation type, in reporting order. */
export const YCSB_OPERATIONS: readonly YcsbOperation[] = ['read', 'update', 'read-modify-write', 'insert', 'scan']

/** The operation types that write, whose latencies the write-latency target reads. */
export const YCSB_WRITES: readonly YcsbOperation[] = ['update', 'read-modify-write', 'insert']

/** A workload: its operation mix and how it picks keys. */
export interface YcsbWorkload {
  name: YcsbWorkloadName
  /** What it stands for, as YCSB describes it. */
  description: string
  /** Each operation type's share of the operations; the shares add up to 1. */
  mix: Partial<Record<YcsbOperation, number>>
  /** `zipfian`: hot records anywhere; `latest`: the most recently inserted are the hottest. */
  keys: 'zipfian' | 'latest'
}

/** The six workloads, in the order YCSB recommends running them (the two that insert last). */
export const YCSB_WORKLOADS: readonly YcsbWorkload[] = [
  { name: 'A', description: 'update heavy: 50 % reads, 50 % updates', mix: { read: 0.5, update: 0.5 }, keys: 'zipfian' },
  { name: 'B', description: 'read mostly: 95 % reads, 5 % updates', mix: { read: 0.95, update: 0.05 }, keys: 'zipfian' },
  { name: 'C', description: 'read only', mix: { read: 1 }, keys: 'zipfian' },
  { name: 'F', description: 'read-modify-write: 50 % reads, 50 % reads each followed by an update of the same record', mix: { read: 0.5, 'read-modify-write': 0.5 }, keys: 'zipfian' },
  { name: 'D', description: 'read latest: 95 % reads, 5 % inserts, the newest records the hottest', mix: { read: 0.95, insert: 0.05 }, keys: 'latest' },
  { name: 'E', description: 'short ranges: 95 % scans of 1 to 100 records, 5 % inserts', mix: { scan: 0.95, insert: 0.05 }, keys: 'zipfian' },
]

/** The records of a full run, as the issue and YCSB's usual size have it. */
export const FULL_RUN_RECORDS = 1_000_000

/** YCSB's longest short scan; each scan reads a uniform 1 … this many records. */
export const MAX_SCAN_LENGTH = 100

/** One operation to issue: its type, the record it starts at, and for a scan how many records it reads. */
export interface YcsbRequest {
  operation: YcsbOperation
  key: Buffer
  /** The value an update, read-modify-write or insert writes. */
  value: Buffer
  scanLength: number
}

/**
 * The records of one database as the workloads draw from them: the loaded records, the inserts
 * so far, and the generators of operation types, keys, scan lengths and values.
 */
export class YcsbKeySpace {
  readonly #random: () => number
  readonly #zipfian: Zipfian
  /** Records loaded plus records inserted so far; the next insert is record `#records`. */
  #records: number
  /** Values made before the clock starts; each write takes the next. */
  readonly #values: Buffer[]
  #nextValue = 0

  constructor(records: number, seed = 2010) {
    this.#random = random(seed)
    this.#zipfian = new Zipfian(records, this.#random)
    this.#records = records
    this.#values = Array.from({ length: 1024 }, (_, i) => incompressibleValue(i, 1, 100))
  }

  /** The next request of `workload`. */
  next(workload: YcsbWorkload): YcsbRequest {
    const operation = this.#pick(workload.mix)
    const value = this.#values[this.#nextValue++ % this.#values.length] as Buffer
    if (operation === 'insert') return { operation, key: benchKey(this.#records++), value, scanLength: 0 }
    const rank = this.#zipfian.next()
    const index = workload.keys === 'latest' ? Math.max(0, this.#records - 1 - rank) : rank
    const scanLength = operation === 'scan' ? 1 + Math.floor(this.#random() * MAX_SCAN_LENGTH) : 0
    return { operation, key: benchKey(index), value, scanLength }
  }

  #pick(mix: YcsbWorkload['mix']): YcsbOperation {
    let u = this.#random()
    let last: YcsbOperation = 'read'
    for (const [operation, share] of Object.entries(mix) as [YcsbOperation, number][]) {
      last = operation
      if (u < share) return operation
      u -= share
    }
    return last
  }
}
