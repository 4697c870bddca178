import { corruption, crc32 } from '@strata/storage'
import { indexNode } from './key-search.js'
import { entrySize } from './leaf-entry.js'
import { type Child, keyCount, type Leaf, type Node, newBranch, newLeaf, PAGE_HEADER_BYTES, type PageAddress } from './node.js'

/**
 * The byte layout of a page image, shared by both engines (docs/format.md §Pages):
 *
 *   0  u32  CRC-32 of bytes [4, 16 + bodyLength)
 *   4  u8   kind: 1 leaf, 2 branch
 *   5  u8   born, bits 32–39 (the sequence number that made this version)
 *   6  u16  count: entries of a leaf, keys of a branch
 *   8  u32  bodyLength
 *   12 u32  born, bits 0–31
 *   16 body
 *
 * All integers little-endian. Addresses are u64 written as two u32 halves (low first).
 */
const KIND_LEAF = 1
const KIND_BRANCH = 2
const VALUE_INLINE = 0
const VALUE_REF = 1
const TWO_32 = 2 ** 32

function writeAddress(buf: Buffer, offset: number, address: number): number {
  buf.writeUInt32LE(address % TWO_32, offset)
  buf.writeUInt32LE(Math.floor(address / TWO_32), offset + 4)
  return offset + 8
}

function readAddress(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32
}

/** The address stored for a child: only clean children can be written. */
function childAddress(child: Child): number {
  const address = typeof child === 'number' ? child : child.address
  if (address < 0) throw new Error('strata: invariant broken: encoding a branch with a dirty child')
  return address
}

/**
 * Encodes `node`, checksum included, into a new buffer of `headroom + node.bytes` bytes, the image
 * starting at `headroom` (room for a page store's own framing, so the image is not copied again).
 */
export function encodeNode(node: Node, headroom = 0): Buffer {
  const whole = Buffer.allocUnsafe(headroom + node.bytes)
  const buf = whole.subarray(headroom)
  buf.writeUInt8(node.leaf ? KIND_LEAF : KIND_BRANCH, 4)
  buf.writeUInt8(Math.floor(node.born / 2 ** 32) & 0xff, 5)
  buf.writeUInt16LE(keyCount(node), 6)
  buf.writeUInt32LE(node.bytes - PAGE_HEADER_BYTES, 8)
  buf.writeUInt32LE(node.born % 2 ** 32, 12)
  let at = PAGE_HEADER_BYTES
  if (node.leaf) {
    at = copyEntries(node, buf, at)
  } else {
    at = writeAddress(buf, at, childAddress(node.children[0] as Child))
    for (let i = 0; i < node.keys.length; i++) {
      const key = node.keys[i] as Buffer
      at = buf.writeUInt16LE(key.length, at)
      buf.set(key, at)
      at += key.length
      at = writeAddress(buf, at, childAddress(node.children[i + 1] as Child))
    }
  }
  if (at !== node.bytes) throw new Error(`strata: invariant broken: node size ${node.bytes} but encoded ${at} bytes`)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return whole
}

/**
 * Copies a leaf's entries into `buf` from `at` on; returns the offset after them. Entries that sit
 * one after another in one buffer (those the leaf kept from its last image) go in one copy.
 */
function copyEntries(leaf: Leaf, buf: Buffer, at: number): number {
  const { src, off } = leaf
  const n = off.length
  let i = 0
  while (i < n) {
    const from = src[i] as Buffer
    const start = off[i] as number
    let end = start + entrySize(from, start)
    i++
    while (i < n && src[i] === from && off[i] === end) {
      end += entrySize(from, end)
      i++
    }
    from.copy(buf, at, start, end)
    at += end - start
  }
  return at
}

/** The total length of the page image that starts at `buf[0]`, read from its header. */
export function pageImageLength(buf: Buffer): number {
  return PAGE_HEADER_BYTES + buf.readUInt32LE(8)
}

/** The page image at `buf[0]`, as long as its header says, once `buf` is known to hold it all. */
function imageAt(buf: Buffer, bad: (what: string) => Error): Buffer {
  if (buf.length < PAGE_HEADER_BYTES) throw bad('truncated page header')
  const length = pageImageLength(buf)
  if (length > buf.length) throw bad('truncated page')
  return buf.subarray(0, length)
}

/**
 * Decodes a page image (checksum verified) into a clean node at `address`, in generation `gen`.
 * Keys and inline values are views of `buf`, which the node then owns. Any inconsistency is a
 * LEVEL_CORRUPTION error naming `file` and `offset`.
 */
export function decodeNode(buf: Buffer, address: PageAddress, gen: number, file: string, offset: number): Node {
  const bad = (what: string) => corruption(file, offset, what)
  const image = imageAt(buf, bad)
  if (crc32(image.subarray(4)) !== image.readUInt32LE(0)) throw bad('page checksum mismatch')
  const node = parseImage(image, address, gen, bad)
  indexNode(node)
  return node
}

/**
 * A key in the range of the page image at `buf[0]` without decoding the rest: its first key, or an
 * empty key for an empty leaf. What reclamation needs to find the path to a page it may move. The
 * page checksum is not checked again: the caller has checked the bytes (a log record's checksum
 * covers the page in it). A page too short for its header or first key is a LEVEL_CORRUPTION error.
 */
export function pageProbe(buf: Buffer, file: string, offset: number): Buffer {
  const bad = (what: string) => corruption(file, offset, what)
  const image = imageAt(buf, bad)
  const length = image.length
  const kind = image.readUInt8(4)
  if (kind !== KIND_LEAF && kind !== KIND_BRANCH) throw bad(`unknown page kind ${kind}`)
  if (image.readUInt16LE(6) === 0) return Buffer.alloc(0)
  const at = PAGE_HEADER_BYTES + (kind === KIND_BRANCH ? 8 : 0)
  if (at + 2 > length) throw bad('page entry runs past the page end')
  const keyLength = image.readUInt16LE(at)
  if (at + 2 + keyLength > length) throw bad('page entry runs past the page end')
  return image.subarray(at + 2, at + 2 + keyLength)
}

/**
 * Points a node's keys and values at the image just encoded from it, so that a clean node's bytes
 * sit together in one buffer (better locality for searches) and the buffers its entries came
 * from can be collected. Nothing a reader sees changes.
 */
export function rebaseNode(node: Node, image: Buffer): void {
  if (node.leaf) {
    // The entries were just copied in order: only their offsets change. The index still holds.
    const n = node.off.length
    let at = PAGE_HEADER_BYTES
    for (let i = 0; i < n; i++) {
      node.src[i] = image
      node.off[i] = at
      at += entrySize(image, at)
    }
  } else {
    const parsed = parseImage(image, node.address, node.gen, () => new Error('strata: invariant broken: cannot parse an image just encoded'))
    if (!parsed.leaf) node.keys = parsed.keys
  }
  indexNode(node)
}

function parseImage(image: Buffer, address: PageAddress, gen: number, bad: (what: string) => Error): Node {
  const length = image.length
  const kind = image.readUInt8(4)
  const count = image.readUInt16LE(6)
  let at = PAGE_HEADER_BYTES
  const need = (n: number) => {
    if (at + n > length) throw bad('page entry runs past the page end')
  }
  let node: Node
  if (kind === KIND_LEAF) {
    const off: number[] = new Array(count)
    for (let i = 0; i < count; i++) {
      off[i] = at
      need(2)
      const keyLength = image.readUInt16LE(at)
      at += 2
      need(keyLength + 5)
      at += keyLength
      const valueKind = image.readUInt8(at)
      const valueLength = image.readUInt32LE(at + 1)
      at += 5
      if (valueKind === VALUE_INLINE) {
        need(valueLength)
        at += valueLength
      } else if (valueKind === VALUE_REF) {
        need(8)
        at += 8
      } else {
        throw bad(`unknown value kind ${valueKind}`)
      }
    }
    node = newLeaf(gen, new Array<Buffer>(count).fill(image), off)
  } else if (kind === KIND_BRANCH) {
    const keys: Buffer[] = []
    const children: Child[] = []
    need(8)
    children.push(readAddress(image, at) as PageAddress)
    at += 8
    for (let i = 0; i < count; i++) {
      need(2)
      const keyLength = image.readUInt16LE(at)
      at += 2
      need(keyLength + 8)
      keys.push(image.subarray(at, at + keyLength))
      at += keyLength
      children.push(readAddress(image, at) as PageAddress)
      at += 8
    }
    node = newBranch(gen, keys, children)
  } else {
    throw bad(`unknown page kind ${kind}`)
  }
  if (at !== length) throw bad('page body length does not match its entries')
  node.born = image.readUInt8(5) * 2 ** 32 + image.readUInt32LE(12)
  node.address = address
  node.home = address
  return node
}
