/**
 * The write workloads every amplification measurement runs, on Strata and on the peers alike: the
 * same keys, values and order for every store, from a fixed seed.
 */
import type { Operation } from '@strata/btree'
import { benchKey, random } from './harness.js'
import { Zipfian } from './zipfian.js'

/** The name of one workload. */
export type WorkloadName = 'uniform' | 'zipfian' | 'sequential' | 'mixed'

/** Every workload, in reporting order. */
export const WORKLOADS: readonly WorkloadName[] = ['uniform', 'zipfian', 'sequential', 'mixed']

/** What each workload does, for tables and docs. */
export const WORKLOAD_DESCRIPTIONS: Record<WorkloadName, string> = {
  uniform: 'overwrites of existing keys drawn uniformly at random',
  zipfian: 'overwrites of existing keys drawn from a zipfian hot set (θ = 0.99) of neighbouring keys',
  sequential: 'inserts of new keys in ascending order, all after the existing ones (an append-only table)',
  mixed: 'half overwrites, a quarter inserts of new random keys, a quarter deletes of existing keys, all uniform',
}

/** One workload over a database of `keys` entries loaded by {@link loadBatches}. */
export interface WorkloadSpec {
  name: WorkloadName
  /** Entries in the database before the workload: keys benchKey(0 … keys − 1). */
  keys: number
  /** Operations the workload makes. */
  operations: number
  valueBytes: number
  seed?: number
}

/** The i-th key of the sequential workload: 16 bytes, ascending with i, after every benchKey. */
export function appendKey(i: number): Buffer {
  const buf = Buffer.alloc(16)
  buf.write('s', 0)
  buf.write(i.toString(16).padStart(15, '0'), 1)
  return buf
}

/**
 * A value of `size` bytes that no compressor can shrink (xorshift output seeded by the key's index
 * and the round), so a store that compresses (LevelDB's Snappy) writes what the others write.
 */
export function incompressibleValue(i: number, round: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  let s = (Math.imul(i + 1, 2654435761) ^ Math.imul(round + 1, 40503)) >>> 0 || 1
  let at = 0
  for (; at + 4 <= size; at += 4) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    buf.writeUInt32LE(s >>> 0, at)
  }
  for (; at < size; at++) buf[at] = (s >>> (8 * (at % 4))) & 0xff
  return buf
}

/** Key and value bytes of `ops`: what the engines count as the user's bytes (a delete counts its key). */
export function userBytes(ops: readonly Operation[]): number {
  let bytes = 0
  for (const op of ops) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
  return bytes
}

/** The batches that load a database of `keys` entries, in random key order, `batch` at a time. */
export function loadBatches(keys: number, valueBytes: number, batch = 1000): Operation[][] {
  const order = Array.from({ length: keys }, (_, i) => i)
  const rand = random(7)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  return inBatches(
    order.map((i): Operation => ({ type: 'put', key: benchKey(i), value: incompressibleValue(i, 0, valueBytes) })),
    batch,
  )
}

/** The operations of a workload, in order. Deterministic: the same spec gives the same operations. */
export function workloadOperations(spec: WorkloadSpec): Operation[] {
  const rand = random(spec.seed ?? 4242)
  const round = 1 + (spec.seed ?? 0)
  const put = (key: Buffer, i: number): Operation => ({ type: 'put', key, value: incompressibleValue(i, round, spec.valueBytes) })
  const ops: Operation[] = []
  switch (spec.name) {
    case 'uniform':
      for (let n = 0; n < spec.operations; n++) {
        const i = Math.floor(rand() * spec.keys)
        ops.push(put(benchKey(i), i))
      }
      break
    case 'zipfian': {
      // Rank r is the r-th key in key order from a random start, so the hot set is a run of
      // neighbouring keys (time-ordered or tenant-prefixed keys, say). A hot set scattered over
      // the key space, as YCSB scrambles it, dirties nearly every page of a tree of 100-byte
      // values and so writes what the uniform workload writes.
      const order = keyOrder(spec.keys)
      const start = Math.floor(rand() * spec.keys)
      const zipf = new Zipfian(spec.keys, rand)
      for (let n = 0; n < spec.operations; n++) {
        const i = order[(start + zipf.next()) % spec.keys] as number
        ops.push(put(benchKey(i), i))
      }
      break
    }
    case 'sequential':
      for (let n = 0; n < spec.operations; n++) ops.push(put(appendKey(n), n))
      break
    case 'mixed': {
      // The live keys, so a delete always removes a key that exists and an overwrite finds one.
      const live = Array.from({ length: spec.keys }, (_, i) => i)
      let next = spec.keys
      for (let n = 0; n < spec.operations; n++) {
        const dice = rand()
        const at = Math.floor(rand() * live.length)
        const i = live[at] as number
        if (dice < 0.5) ops.push(put(benchKey(i), i))
        else if (dice < 0.75) {
          live.push(next)
          ops.push(put(benchKey(next), next))
          next++
        } else {
          live[at] = live[live.length - 1] as number
          live.pop()
          ops.push({ type: 'del', key: benchKey(i) })
        }
      }
      break
    }
  }
  return ops
}

/** The indexes 0 … keys − 1 sorted by their benchKey. */
function keyOrder(keys: number): number[] {
  const byIndex = Array.from({ length: keys }, (_, i) => benchKey(i))
  return Array.from({ length: keys }, (_, i) => i).sort((a, b) => Buffer.compare(byIndex[a] as Buffer, byIndex[b] as Buffer))
}

/** `ops` cut into batches of `size` (the last may be shorter). */
export function inBatches<T>(ops: readonly T[], size: number): T[][] {
  const batches: T[][] = []
  for (let at = 0; at < ops.length; at += size) batches.push(ops.slice(at, at + size))
  return batches
}
