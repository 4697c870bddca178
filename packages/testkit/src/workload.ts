import type { Operation } from '@strata/btree'
import { between, type Random, randomFor } from './random.js'

/** How a workload's batches look. The defaults suit an engine opened with the factories' `small` settings (512-byte pages, 16 KiB segments). */
export interface WorkloadShape {
  /** Distinct keys the workload writes (each also has a long form, so a few keys are long). */
  keys: number
  /** Share of the operations of an ordinary batch that delete. */
  deletes: number
  /** Share of puts with a value past the inline limit of a 512-byte page (2 to 3 KB). */
  outOfLine: number
  /** Share of puts with a value larger than a 16 KiB segment (17 to 40 KB). */
  huge: number
}

/** The shape the campaigns use unless told otherwise. */
export const DEFAULT_WORKLOAD: WorkloadShape = { keys: 240, deletes: 0.2, outOfLine: 0.04, huge: 0.004 }

/** Key `index` of a workload; its long form is 100 bytes longer, for large separators in branch pages. */
export function workloadKey(index: number, long = false): Buffer {
  const key = `key:${String(index).padStart(5, '0')}`
  return Buffer.from(long ? `${key}:${'x'.repeat(100)}` : key)
}

/**
 * The value batch `batch` puts at key `index`: it starts with its key and batch number, so a wrong
 * value read anywhere names where it came from, and its other bytes depend on both.
 */
export function workloadValue(index: number, batch: number, size: number): Buffer {
  const value = Buffer.allocUnsafe(size)
  const tag = Buffer.from(`k${index}@${batch};`)
  tag.copy(value, 0, 0, Math.min(tag.length, size))
  for (let i = tag.length; i < size; i++) value[i] = (batch * 31 + index * 7 + i) & 0xff
  return value
}

function valueSize(rand: Random, shape: WorkloadShape): number {
  const r = rand()
  if (r < shape.huge) return between(rand, 17 * 1024, 40 * 1024)
  if (r < shape.huge + shape.outOfLine) return between(rand, 2000, 3000)
  if (r < 0.3) return between(rand, 60, 110)
  return between(rand, 0, 60)
}

function put(rand: Random, shape: WorkloadShape, index: number, batch: number): Operation {
  return { type: 'put', key: workloadKey(index, rand() < 0.05), value: workloadValue(index, batch, valueSize(rand, shape)) }
}

/**
 * Batch number `batch` (from 1) of workload `seed`, rebuilt the same way every time, in any order:
 * mostly 1–8 puts and deletes on random keys; now and then a bulk load of a run of keys (pages
 * split), the deletion of a run (pages merge, the root may collapse), or a batch of large values.
 */
export function workloadBatch(seed: number, batch: number, shape: WorkloadShape = DEFAULT_WORKLOAD): Operation[] {
  const rand = randomFor(seed, batch)
  const kind = rand()
  const ops: Operation[] = []
  if (kind < 0.08) {
    const first = between(rand, 0, shape.keys - 1)
    const count = between(rand, 40, 160)
    for (let i = 0; i < count; i++) {
      const index = (first + i) % shape.keys
      ops.push({ type: 'put', key: workloadKey(index), value: workloadValue(index, batch, between(rand, 10, 70)) })
    }
  } else if (kind < 0.14) {
    const first = between(rand, 0, shape.keys - 1)
    const count = between(rand, 20, 120)
    for (let i = 0; i < count; i++) ops.push({ type: 'del', key: workloadKey((first + i) % shape.keys) })
  } else if (kind < 0.17) {
    const count = between(rand, 2, 5)
    for (let i = 0; i < count; i++) {
      const index = between(rand, 0, shape.keys - 1)
      ops.push({ type: 'put', key: workloadKey(index), value: workloadValue(index, batch, between(rand, 1500, 6000)) })
    }
  } else {
    const count = between(rand, 1, 8)
    for (let i = 0; i < count; i++) {
      const index = between(rand, 0, shape.keys - 1)
      ops.push(rand() < shape.deletes ? { type: 'del', key: workloadKey(index, rand() < 0.05) } : put(rand, shape, index, batch))
    }
  }
  return ops
}

/** Every key a workload of this shape can write, short and long forms: the keys to read back. */
export function workloadKeys(shape: WorkloadShape = DEFAULT_WORKLOAD): Buffer[] {
  const keys: Buffer[] = []
  for (let i = 0; i < shape.keys; i++) keys.push(workloadKey(i), workloadKey(i, true))
  return keys
}

/** The key under which {@link markedBatch} records its batch number. */
export const BATCH_MARKER = Buffer.from('~batch')

/** Workload batch `batch`, plus a put of its number under {@link BATCH_MARKER}, so a recovered state names the last batch it holds. */
export function markedBatch(seed: number, batch: number, shape: WorkloadShape = DEFAULT_WORKLOAD): Operation[] {
  return [...workloadBatch(seed, batch, shape), { type: 'put', key: BATCH_MARKER, value: Buffer.from(String(batch)) }]
}

/** The batch number {@link markedBatch} recorded in a state: 0 when it holds none. */
export function batchMarker(value: Buffer | undefined): number {
  return value === undefined ? 0 : Number(value.toString())
}

/** Keys {@link heavyBatch} spreads its filler values over. */
const FILLER_KEYS = 8

/**
 * {@link markedBatch} plus a 2 to 9 KB value under one of eight filler keys, so that a few dozen
 * batches fill a small disk; rebuilt the same way every time, like the batches it extends.
 */
export function heavyBatch(seed: number, batch: number): Operation[] {
  const rand = randomFor(seed ^ 0x5f3759df, batch)
  const index = batch % FILLER_KEYS
  const filler: Operation = { type: 'put', key: Buffer.from(`~fill:${index}`), value: workloadValue(index, batch, between(rand, 2000, 9000)) }
  return [filler, ...markedBatch(seed, batch)]
}
