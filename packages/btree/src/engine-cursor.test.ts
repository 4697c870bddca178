import { describe, expect, it } from 'vitest'
import type { Node, PageAddress, ValueRef } from './node.js'
import type { PageSource } from './page-source.js'
import { engineCursor } from './engine-cursor.js'
import { Tree, type TreeEvents } from './tree.js'

class NoPages implements PageSource, TreeEvents {
  readonly pageSize = 512
  loadNode(address: PageAddress): Node {
    throw new Error(`page ${address} cannot be read`)
  }
  readValue(_ref: ValueRef): Buffer {
    throw new Error('no out-of-line values here')
  }
  rewritten(): void {}
  removed(): void {}
  valueRemoved(): void {}
}

function holder() {
  const state = { open: true, releases: 0 }
  return {
    state,
    holder: {
      assertOpen: () => {
        if (!state.open) throw new Error('engine is closed')
      },
      release: () => state.releases++,
    },
  }
}

describe('engineCursor', () => {
  const source = new NoPages()
  const tree = new Tree(source, source)
  for (const k of ['a', 'b', 'c', 'd']) tree.put(Buffer.from(k), Buffer.from(k.toUpperCase()))
  const root = tree.freeze()

  it('reads in order, seeks, and releases what it pins once, however often it is closed', () => {
    const { state, holder: h } = holder()
    const cursor = engineCursor(source, root, {}, h)
    expect(cursor.next()?.[0].toString()).toBe('a')
    cursor.seek(Buffer.from('c'))
    expect(cursor.nextCopies(5).map(([k, v]) => `${k}${v}`)).toEqual(['cC', 'dD'])
    cursor.close()
    cursor.close()
    expect(state.releases).toBe(1)
    expect(cursor.next()).toBeUndefined()
    expect(cursor.nextCopies(2)).toEqual([])
    expect(() => cursor.seek(Buffer.from('a'))).not.toThrow()
  })

  it('an open cursor of a closed engine throws on reading', () => {
    const { state, holder: h } = holder()
    const cursor = engineCursor(source, root, { gte: Buffer.from('b') }, h)
    state.open = false
    expect(() => cursor.next()).toThrow('engine is closed')
    expect(() => cursor.nextCopies(1)).toThrow('engine is closed')
    expect(() => cursor.seek(Buffer.from('c'))).toThrow('engine is closed')
    cursor.close()
    expect(state.releases).toBe(1)
  })

  it('releases at once when the cursor cannot be positioned', () => {
    const { state, holder: h } = holder()
    const unreadable = { leaf: false, keys: [Buffer.from('m')], children: [1 as PageAddress, 2 as PageAddress] } as unknown as Node
    expect(() => engineCursor(source, unreadable, {}, h)).toThrow('cannot be read')
    expect(state.releases).toBe(1)
  })
})
