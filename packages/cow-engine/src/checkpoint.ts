import { isRef, NO_ADDRESS, type Node, spill } from '@strata/btree'
import { assert, type Purpose } from '@strata/storage'
import { type CheckpointRecord, encodeCheckpoint, PAGE_RECORD_PREFIX, stampPageRecord } from './checkpoint-record.js'
import type { Database } from './database.js'
import { encodeFreeList } from './free-list.js'
import type { Meta } from './meta.js'
import { encodeOverflow, overflowPageCount } from './overflow.js'
import { type PageNumber, pageNumber } from './page-file.js'
import type { EpochRange } from './page-table.js'
import { frameRecord, RecordType, sealRecord } from './record.js'
import type { CowSnapshot } from './snapshots.js'
import { isWalValue, lsnOf } from './wal-values.js'

/** When to checkpoint: see docs/architecture.md §COW checkpoint policy. */
export interface CheckpointPolicy {
  /** Never checkpoint before the WAL holds this many bytes of batches and values. */
  minLogBytes: number
  /** Checkpoint once the WAL holds `ratio` × the bytes of the pages the head dirtied since the last checkpoint. */
  ratio: number
  /** Always checkpoint once the WAL holds this many bytes (bounds recovery time and WAL size). */
  maxLogBytes: number
}

/** The policy the COW engine uses unless told otherwise: the ROW engine's defaults, so both engines checkpoint alike. */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = {
  minLogBytes: 8 * 1024 * 1024,
  ratio: 1,
  maxLogBytes: 256 * 1024 * 1024,
}

/** `policy` with every field checked: a field that is not a positive number is a RangeError. */
export function checkPolicy(policy: CheckpointPolicy): CheckpointPolicy {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`checkpoint.${name} must be a positive number`)
  }
  return policy
}

/** Whether a WAL holding `logged` bytes of batches, against `dirtied` bytes of dirtied pages, calls for a checkpoint. */
export function wantsCheckpoint(policy: CheckpointPolicy, logged: number, dirtied: number): boolean {
  return logged >= policy.maxLogBytes || (logged >= policy.minLogBytes && logged >= policy.ratio * dirtied)
}

/** One page a checkpoint writes: its image behind room for the PAGE record header, and who may read it. */
interface PlannedPage {
  page: number
  /** PAGE record prefix, then the image. */
  framed: Buffer
  purpose: Purpose
  /** The first epoch whose snapshots may read the new content. */
  visibleFrom: number
}

/** An old page content that snapshots need copied before it is overwritten. */
interface PageCopy {
  page: number
  range: EpochRange
  snapshots: CowSnapshot[]
}

/** A value the WAL reset drops that snapshots can still see. */
interface ValueCopy {
  lsn: number
  length: number
  snapshots: CowSnapshot[]
}

const imageOf = (p: PlannedPage): Buffer => p.framed.subarray(PAGE_RECORD_PREFIX)

/**
 * Writes the head in place and starts a new WAL generation (docs/architecture.md §COW checkpoints):
 * 1. Move every large value the head holds out of the WAL into an overflow chain.
 * 2. Spill the head: each dirty node goes to its home page, or to a newly allocated one.
 * 3. Write the free list, if the free set changed: pages freed since the last checkpoint join it.
 * 4. Decide the pre-images: which old page contents, and which dropped WAL values, live snapshots need.
 * 5. (a) Append every page image and a CHECKPOINT record to the WAL in one write; sync.
 * 6. (b) Copy the pre-images to the snapshots' store; sync it.
 * 7. (c) Write the pages in place; sync pages.db.
 * 8. (d) Write the meta slot; sync pages.db. The checkpoint is durable.
 * 9. (e) Reset the WAL to a new generation starting after the CHECKPOINT record; sync.
 * A crash after step 5 is redone by recovery from the WAL's images; one before it leaves pages.db
 * untouched. A failure at any step leaves the WAL unusable for writes until a reopen; reads go on.
 * Returns false, writing nothing, when there was nothing to checkpoint and `force` is false.
 */
export async function checkpoint(db: Database, purpose: Purpose, force = false): Promise<boolean> {
  if (!force && db.tree.root.address !== NO_ADDRESS && db.wal.logged === 0 && !db.table.dirty) return false
  try {
    await writeCheckpoint(db, purpose)
    return true
  } catch (error) {
    // Whatever step failed, the head and the files may disagree now: no more writes until a reopen.
    db.wal.fail(error as Error)
    throw error
  }
}

/** The steps of {@link checkpoint}. */
async function writeCheckpoint(db: Database, purpose: Purpose): Promise<void> {
  const tree = db.tree
  const epoch = db.epoch + 1
  const plan: PlannedPage[] = []
  // 1. Large values out of the WAL. The head's leaves holding them are all dirty (they changed
  // since the last checkpoint), so they are spilled just after with their new references.
  moveValues(db, tree.root, epoch, plan)
  // 2. Spill: in place where the node has a home, else on a new page.
  spill(
    tree.root,
    (node, framed) => {
      const page = node.home !== NO_ADDRESS ? node.home : pageNumber(db.table.allocate())
      plan.push({ page, framed, purpose, visibleFrom: epoch })
      return page
    },
    PAGE_RECORD_PREFIX,
  )
  // Snapshots taken from now on see the spilled tree: their pages are this checkpoint's.
  db.epoch = epoch
  // 3. The free list, on its chain of pages, which no snapshot ever reads.
  let freeListHead = db.meta.freeListHead
  let freePages = db.meta.freePages
  if (db.table.dirty) {
    const entries = db.table.persist(epoch)
    const chain = db.table.chain
    encodeFreeList(entries, chain, db.pageSize, PAGE_RECORD_PREFIX).forEach((framed, i) => {
      plan.push({ page: chain[i] as number, framed, purpose: 'meta', visibleFrom: Number.POSITIVE_INFINITY })
    })
    freeListHead = chain[0] ?? 0
    freePages = entries.length
  }
  assert(new Set(plan.map((p) => p.page)).size === plan.length, 'a checkpoint writes one page twice')
  // 4. Pre-images, decided before the page table learns the new versions.
  const pageCopies: PageCopy[] = []
  if (db.snapshots.count > 0) {
    for (const p of plan) {
      const range = db.table.oldContent(p.page, epoch)
      const snapshots = range ? db.snapshots.within(range) : []
      if (range && snapshots.length > 0) pageCopies.push({ page: p.page, range, snapshots })
    }
  }
  const valueCopies: ValueCopy[] = []
  for (const v of db.values.dropped()) {
    const snapshots = db.snapshots.seeingSeqs(v.seq, v.removedSeq as number)
    if (snapshots.length > 0) valueCopies.push({ lsn: v.lsn, length: v.length, snapshots })
  }
  for (const p of plan) {
    db.inFlight.set(p.page, imageOf(p))
    db.table.written(p.page, p.visibleFrom)
  }
  const record: CheckpointRecord = {
    seq: db.seq,
    dataBytes: tree.dataBytes,
    root: tree.root.address,
    pageCount: db.table.pageCount,
    freeListHead,
    freePages,
    images: plan.length,
  }
  // 5. (a) Full page images first: from here on recovery can finish the checkpoint.
  const salt = db.wal.salt
  const parts = plan.map((p) => sealRecord(stampPageRecord(p.framed, p.page), RecordType.PAGE, salt))
  const marker = frameRecord(RecordType.CHECKPOINT, encodeCheckpoint(record), salt)
  db.wal.append([...parts, marker], 'page')
  for (const p of plan) if (p.purpose !== 'page') db.fs.io.reassign('page', p.purpose, p.framed.length)
  db.fs.io.reassign('page', 'meta', marker.length)
  const walBase = db.wal.end
  await db.wal.sync()
  // 6. (b) Copy before write: each old content once per snapshot (per-snapshot) or once (shared).
  for (const c of pageCopies) db.store.savePage(c.page, c.range, wholePage(db.pages.readSlot(c.page, 'preimage'), db.pageSize), c.snapshots)
  for (const v of valueCopies) db.store.saveValue(v.lsn, db.readWalValueFor(v.lsn, v.length, 'preimage'), v.snapshots)
  await db.store.sync()
  // 7. (c) In place.
  db.pages.writePages(plan.map((p) => ({ page: p.page, image: imageOf(p), purpose: p.purpose })))
  await db.pages.sync()
  // 8. (d) The meta names the checkpoint and where the WAL after it begins.
  const { images: _images, ...fields } = record
  const meta: Meta = { ...db.meta, ...fields, generation: db.meta.generation + 1, walBase }
  db.pages.writeMeta(meta)
  await db.pages.sync()
  db.meta = meta
  // 9. (e) A new WAL generation; the values of the old one are moved or saved.
  db.wal.reset(walBase)
  await db.wal.sync()
  db.inFlight.clear()
  db.table.committed()
  db.values.resetGeneration()
  db.values.prune(db.snapshots.oldestEpoch())
  db.dirtied = 0
  db.checkpoints++
}

/**
 * Moves each WAL value the head holds into an overflow chain and points its leaf there. The leaf
 * may be shared with snapshots taken since the last checkpoint (epoch − 1); the value reads the
 * same from either place, and the chain is marked readable by those snapshots, so its pages get
 * pre-images if they are ever reused while such a snapshot lives. Snapshots holding an older copy
 * of the leaf find the chain through `WalValues.movedTo`.
 */
function moveValues(db: Database, node: Node, epoch: number, plan: PlannedPage[]): void {
  if (node.address !== NO_ADDRESS) return
  if (!node.leaf) {
    for (const child of node.children) if (typeof child !== 'number') moveValues(db, child, epoch, plan)
    return
  }
  node.values.forEach((value, i) => {
    if (!isRef(value) || !isWalValue(value.address)) return
    const lsn = lsnOf(value.address)
    const bytes = db.readWalValueFor(lsn, value.length, 'value')
    const pages = Array.from({ length: overflowPageCount(value.length, db.pageSize) }, () => db.table.allocate())
    encodeOverflow(bytes, pages, db.pageSize, PAGE_RECORD_PREFIX).forEach((framed, j) => {
      plan.push({ page: pages[j] as number, framed, purpose: 'value', visibleFrom: epoch - 1 })
    })
    const first = pages[0] as PageNumber
    node.values[i] = { address: first, length: value.length }
    db.values.moved(lsn, first, epoch - 1)
    db.chains.set(first, pages)
  })
}

/** A page slot as read, padded with zeroes to a whole page if the file ended inside it. */
function wholePage(slot: Buffer, pageSize: number): Buffer {
  if (slot.length === pageSize) return slot
  const whole = Buffer.alloc(pageSize)
  slot.copy(whole)
  return whole
}
