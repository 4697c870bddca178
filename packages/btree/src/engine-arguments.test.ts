import { describe, expect, it } from 'vitest'
import type { Operation } from './engine.js'
import { checkOperations, checkSnapshotArguments } from './engine-arguments.js'
import { Tree } from './tree.js'

describe('engine argument checks', () => {
  const tree = new Tree({ pageSize: 512, loadNode: () => { throw new Error('no pages') }, readValue: () => Buffer.alloc(0) }, { rewritten() {}, removed() {}, valueRemoved() {} })

  it('a batch of Buffer puts and dels passes; anything else is a TypeError, an oversized key a RangeError', () => {
    expect(() => checkOperations([{ type: 'put', key: Buffer.from('k'), value: Buffer.from('v') }, { type: 'del', key: Buffer.from('k') }], tree)).not.toThrow()
    const bad = (op: unknown) => () => checkOperations([op as Operation], tree)
    expect(bad({ type: 'put', key: 'k', value: Buffer.from('v') })).toThrow(TypeError)
    expect(bad({ type: 'put', key: Buffer.from('k'), value: 'v' })).toThrow(TypeError)
    expect(bad({ type: 'merge', key: Buffer.from('k') })).toThrow(TypeError)
    expect(bad({ type: 'del', key: Buffer.alloc(400) })).toThrow(expect.objectContaining({ code: 'STRATA_KEY_TOO_LARGE' }))
  })

  it('a snapshot takes a name of 1 to 255 bytes without control characters, and Buffer meta', () => {
    expect(() => checkSnapshotArguments('nightly 2026-12-05', Buffer.alloc(0))).not.toThrow()
    expect(() => checkSnapshotArguments(7, Buffer.alloc(0))).toThrow(TypeError)
    expect(() => checkSnapshotArguments('', Buffer.alloc(0))).toThrow(RangeError)
    expect(() => checkSnapshotArguments('é'.repeat(128), Buffer.alloc(0))).toThrow(RangeError)
    expect(() => checkSnapshotArguments('a\nb', Buffer.alloc(0))).toThrow(RangeError)
    expect(() => checkSnapshotArguments('name', 'meta')).toThrow(TypeError)
  })
})
