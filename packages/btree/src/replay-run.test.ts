import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeBatch, type LoggedOperation, outlineBatch } from './batch-record.js'
import { ReplayRun, ReplayRuns } from './replay-run.js'
import { RECORD_HEADER_BYTES } from '@strata/storage'
import { batchRecordBytes } from './batch-record.js'

/** A BATCH payload for `ops` at `seq`, as a log holds it. */
function payloadOf(seq: number, ops: LoggedOperation[]): Buffer {
  const out = Buffer.alloc(batchRecordBytes(ops))
  encodeBatch(seq, ops, 0, out, 0)
  return out.subarray(RECORD_HEADER_BYTES)
}

/**
 * What a replay must apply: by key in byte order, the log's order within a key, every operation
 * but those a later one to the same key overwrites (unless they put a value kept out of line).
 */
function expectedOrder(batches: { seq: number; ops: LoggedOperation[] }[]): string[] {
  const all = batches
    .flatMap((b) => b.ops.map((op) => ({ op, seq: b.seq })))
    .map((x, i) => ({ ...x, i }))
    .sort((a, b) => Buffer.compare(a.op.key, b.op.key) || a.i - b.i)
  return all
    .filter(({ op }, k) => {
      const next = all[k + 1]
      return next === undefined || !next.op.key.equals(op.key) || (op.type === 'put' && !Buffer.isBuffer(op.value))
    })
    .map(({ op, seq }) => describeOp(op, seq))
}

function describeOp(op: LoggedOperation, seq: number): string {
  const value = op.type === 'del' ? 'del' : Buffer.isBuffer(op.value) ? op.value.toString('hex') : `ref ${op.value.address}/${op.value.length}`
  return `${seq} ${op.key.toString('hex')} ${value}`
}

function drained(run: ReplayRun): string[] {
  const out: string[] = []
  run.drain((op, seq) => out.push(describeOp(op, seq)))
  return out
}

describe('ReplayRun', () => {
  it('applies operations by key in byte order, the last to each key (and every out-of-line put), whatever keys share', () => {
    // Keys from a small alphabet with long shared prefixes, short keys, empty keys and keys that
    // are prefixes of others: the four sort bytes tie often and the whole keys must decide.
    const key = fc.oneof(
      fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom('', 'user:', 'user:0000'), fc.stringMatching(/^[0-9a]{0,7}$/)).map(([p, s]) => Buffer.from(p + s)),
    )
    const op: fc.Arbitrary<LoggedOperation> = fc.oneof(
      fc.record({ type: fc.constant('put' as const), key, value: fc.uint8Array({ maxLength: 5 }).map((b) => Buffer.from(b)) }),
      fc.record({ type: fc.constant('put' as const), key, value: fc.record({ address: fc.nat(), length: fc.nat(70000) }) }),
      fc.record({ type: fc.constant('del' as const), key }),
    )
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 40 }), { maxLength: 12 }), (lists) => {
        const batches = lists.map((ops, i) => ({ seq: i + 1, ops }))
        const run = new ReplayRun(1 << 20)
        for (const b of batches) {
          const payload = payloadOf(b.seq, b.ops)
          run.add(b.seq, payload, outlineBatch(payload, 'x', 0).offsets, payload.length)
          // The run copied the payload: the log scan's buffer may be overwritten.
          payload.fill(0xff)
        }
        expect(run.size).toBe(batches.reduce((n, b) => n + b.ops.length, 0))
        expect(drained(run)).toEqual(expectedOrder(batches))
        expect(run.size).toBe(0)
        expect(run.bytes).toBe(0)
      }),
      { numRuns: 300 },
    )
  })

  it('orders many writes to a few long keys, whose bytes tie far into the key', () => {
    const long = (tail: number) => Buffer.concat([Buffer.alloc(600, 7), Buffer.from([tail])])
    const batches = Array.from({ length: 8 }, (_, b) => ({
      seq: b + 1,
      ops: Array.from({ length: 30 }, (_, j): LoggedOperation => ({ type: 'put', key: long((b * 7 + j) % 3), value: Buffer.from([b, j]) })),
    }))
    const run = new ReplayRun(1 << 20)
    for (const b of batches) {
      const payload = payloadOf(b.seq, b.ops)
      run.add(b.seq, payload, outlineBatch(payload, 'x', 0).offsets, payload.length)
    }
    expect(drained(run)).toEqual(expectedOrder(batches))
  })

  it('is reused once drained, and refuses what does not fit', () => {
    const run = new ReplayRun(3000)
    const batch = (seq: number) => ({ seq, ops: Array.from({ length: 20 }, () => ({ type: 'put' as const, key: randomBytes(8), value: randomBytes(40) })) })
    for (let round = 0; round < 3; round++) {
      const batches = [batch(1), batch(2)]
      for (const b of batches) {
        const payload = payloadOf(b.seq, b.ops)
        expect(run.fits(payload.length, b.ops.length)).toBe(true)
        run.add(b.seq, payload, outlineBatch(payload, 'x', 0).offsets, payload.length + RECORD_HEADER_BYTES)
      }
      const third = payloadOf(3, batch(3).ops)
      expect(run.fits(third.length, 20)).toBe(false)
      expect(() => run.add(3, third, outlineBatch(third, 'x', 0).offsets, 1)).toThrow(RangeError)
      expect(drained(run)).toEqual(expectedOrder(batches))
    }
  })

  it('ReplayRuns applies a run when the next batch does not fit or on flush, and a batch larger than a run alone', () => {
    const events: string[] = []
    const batch = (seq: number, n: number) => ({ seq, ops: Array.from({ length: n }, (_, j): LoggedOperation => ({ type: 'put', key: Buffer.from([seq, j]), value: Buffer.alloc(10, seq) })) })
    // Runs of at most 450 payload bytes: a 10-op batch is 210 bytes, a 30-op one 590.
    const runs = new ReplayRuns(450, {
      applyRun: (seq, each) => {
        const seqs: number[] = []
        each((_op, batchSeq) => seqs.push(batchSeq))
        events.push(`run ${seq}: ${[...new Set(seqs)].join(',')}`)
      },
      applyBatch: (seq, ops) => events.push(`alone ${seq}: ${ops.length}`),
      applied: (batches, bytes) => events.push(`applied ${batches} ${bytes}`),
    })
    for (const b of [batch(1, 10), batch(2, 30), batch(3, 10), batch(4, 10)]) {
      const payload = payloadOf(b.seq, b.ops)
      runs.add(b.seq, payload, outlineBatch(payload, 'x', 0).offsets, payload.length)
    }
    runs.flush()
    runs.flush()
    expect(events).toEqual(['run 1: 1', 'applied 1 210', 'alone 2: 30', 'applied 1 590', 'run 4: 3,4', 'applied 2 420'])
  })
})
