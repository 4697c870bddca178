import { cacheWritten, DEFAULT_LOG_CHECKPOINT_POLICY, replayEstimateMs, isRef, leafValue, type LogCheckpointPolicy, NO_ADDRESS, type Node, type PageAddress, setLeafValue, spill } from '@strata/btree'
import { assert, frameRecord, type Purpose, sealRecord } from '@strata/storage'
import { type CheckpointRecord, encodeCheckpoint, PAGE_RECORD_PREFIX, RESTORE_FLAG, stampPageRecord } from './checkpoint-record.js'
import type { Database } from './database.js'
import { encodeFreeList } from './free-list.js'
import type { Meta } from './meta.js'
import { encodeOverflow, overflowPageCount } from './overflow.js'
import { type PageNumber, pageNumber } from './page-file.js'
import { RecordType } from './record.js'
import type { RestorePlan } from './restore.js'
import type { CowSnapshot } from './snapshots.js'
import { isWalValue, lsnOf } from './wal-values.js'

/** When to checkpoint (docs/architecture.md §COW checkpoint policy): the policy both engines share, over the WAL. */
export type CheckpointPolicy = LogCheckpointPolicy

/** The policy the COW engine uses unless told otherwise: the ROW engine's defaults, so both engines checkpoint alike. */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { ...DEFAULT_LOG_CHECKPOINT_POLICY }

/** The files the space policy aims for (docs/architecture.md §COW checkpoint policy): a share of the bound. */
const SPACE_AIM = 0.85
/** Past the space aim, a checkpoint comes once the WAL holds this share of what the ratio asks. */
const SPACE_EARLY = 0.9

/** The database's size, for the space policy. */
export interface SpaceFigures {
  /** Key and value bytes of the head. */
  liveBytes: number
  /** Bytes of the page file and the WAL: the files less the pre-image stores, which snapshots alone keep. */
  headBytes: number
  /** Bytes of the page file. */
  pageBytes: number
}

/**
 * The files the policy keeps the head within: max(1.5 × live bytes, live bytes + `minLogBytes`),
 * the pre-image stores of snapshots besides.
 */
export function spaceBound(policy: CheckpointPolicy, liveBytes: number): number {
  return Math.max(1.5 * liveBytes, liveBytes + policy.minLogBytes)
}

/**
 * Whether a WAL holding `logged` bytes of batches, against `dirtied` bytes of dirtied pages, calls
 * for a checkpoint. A small database's WAL waits for a quarter of its live data, when that is less
 * than `minLogBytes` (down to an eighth of it); past the space aim, while the pages dirtied are
 * less than half the page file, a checkpoint comes a little before the ratio asks.
 */
export function wantsCheckpoint(policy: CheckpointPolicy, logged: number, dirtied: number, space: SpaceFigures): boolean {
  if (logged >= policy.maxLogBytes || replayEstimateMs(logged, 0) >= policy.maxReplayMs) return true
  if (logged < Math.min(policy.minLogBytes, Math.max(policy.minLogBytes / 8, space.liveBytes / 4))) return false
  const owed = policy.ratio * dirtied
  if (logged >= owed) return true
  // Early only while the pages dirtied grow with the WAL: a checkpoint of most of the tree costs the same later.
  return logged >= SPACE_EARLY * owed && dirtied < space.pageBytes / 2 && space.headBytes > SPACE_AIM * spaceBound(policy, space.liveBytes)
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

/** A named snapshot a checkpoint creates: the state it writes, under this name. */
export interface NewSnapshot {
  name: string
  id: number
  createdAt: number
  meta: Buffer
}

/** What a checkpoint does besides writing the head: create a named snapshot of it, or restore one. */
export interface CheckpointChanges {
  create?: NewSnapshot
  /** The head was made a named snapshot's state (restore.ts): its values on overwritten chains go on new ones. */
  restore?: RestorePlan
}

const imageOf = (p: PlannedPage): Buffer => p.framed.subarray(PAGE_RECORD_PREFIX)

/**
 * Writes the head in place and starts a new WAL generation (docs/architecture.md §COW checkpoints):
 * 0. Sync the WAL: every record before the checkpoint's is durable, so a record lost to a crash
 *    can only come after a checkpoint's, and one before it is damage (docs/format.md §COW recovery).
 * 1. Move every large value the head holds out of the WAL into an overflow chain.
 * 2. Spill the head: each dirty node goes to its home page, or to a newly allocated one (a
 *    restore's values go on new chains first).
 * 3. Copy before write: decide which live snapshots need the old content of every page about to
 *    be overwritten, publish the new images in flight, then read the old content (still on
 *    pages.db) and write it to their store (once per snapshot, or once); named snapshots list
 *    their copies.
 * 4. The catalogue: a named snapshot created here names the spilled tree; copy lists grow.
 * 5. The free list, if the free set changed: pages freed since the last checkpoint join it.
 *    Metadata pages never hold what a named snapshot needs, so their copies (for in-process
 *    snapshots only) come last, and the copy lists written in step 4 are complete.
 * 6. (a) Append every page image and a CHECKPOINT record to the WAL in one write; sync.
 * 7. (b) Sync the store: the copies are durable before any in-place write.
 * 8. (c) Write the pages in place; sync pages.db.
 * 9. (d) Write the meta slot; sync pages.db. The checkpoint is durable.
 * 10. (e) Reset the WAL to a new generation starting after the CHECKPOINT record; sync.
 * 11. Hand the head's clean nodes to the page cache (docs/architecture.md §The page cache).
 * A crash after step 6 is redone by recovery from the WAL's images (copies the crash cut short
 * are made again first); one before it leaves pages.db untouched. A failure at any step leaves the
 * WAL unusable for writes until a reopen; reads go on. Returns false, writing nothing, when there
 * was nothing to checkpoint and `force` is false.
 */
export async function checkpoint(db: Database, purpose: Purpose, force = false, changes: CheckpointChanges = {}): Promise<boolean> {
  if (!force && db.tree.root.address !== NO_ADDRESS && db.wal.logged === 0 && !db.table.dirty) return false
  try {
    await writeCheckpoint(db, purpose, changes)
    return true
  } catch (error) {
    // Whatever step failed, the head and the files may disagree now: no more writes until a reopen.
    db.wal.fail(error as Error)
    throw error
  }
}

/** The steps of {@link checkpoint}. */
async function writeCheckpoint(db: Database, purpose: Purpose, changes: CheckpointChanges): Promise<void> {
  // 0. What the WAL holds before the checkpoint's records is durable first.
  await db.wal.sync()
  const tree = db.tree
  const epoch = db.epoch + 1
  const plan: PlannedPage[] = []
  // 1. Large values out of the WAL. The head's leaves holding them are all dirty (they changed
  // since the last checkpoint), so they are spilled just after with their new references.
  moveValues(db, tree.root, epoch, plan)
  // A restore's values whose chains the head had overwritten go on new chains.
  for (const v of changes.restore?.values ?? []) writeChain(db, v.leaf, v.index, v.value, epoch, plan)
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
  // 3. Pre-images of the tree's pages: who needs them is decided before the page table learns the
  // new versions; the copies are made once readers see the new versions in flight, so a failure
  // on the way leaves every reader a whole state (pages.db is untouched until step 8).
  const treeCopies = decideCopies(db, plan, epoch)
  publish(db, plan)
  copyOldContent(db, treeCopies)
  // 4. The catalogue, on pages no named snapshot needs.
  const metadataFrom = plan.length
  if (changes.create) {
    db.catalogue.mode = db.store.mode
    db.catalogue.add({ ...changes.create, seq: db.seq, root: tree.root.address, dataBytes: tree.dataBytes })
  }
  const allocateMeta = () => db.table.allocateUnneeded((page) => db.namedNeed(page, epoch))
  for (const w of db.catalogue.write(allocateMeta, (page) => db.table.free(page), PAGE_RECORD_PREFIX)) {
    plan.push({ page: w.page, framed: w.framed, purpose: 'meta', visibleFrom: Number.POSITIVE_INFINITY })
  }
  // 5. The free list, on its chain of pages, which no snapshot ever reads.
  let freeListHead = db.meta.freeListHead
  let freePages = db.meta.freePages
  if (db.table.dirty) {
    const entries = db.table.persist(epoch, allocateMeta)
    const chain = db.table.chain
    encodeFreeList(entries, chain, db.pageSize, PAGE_RECORD_PREFIX).forEach((framed, i) => {
      plan.push({ page: chain[i] as number, framed, purpose: 'meta', visibleFrom: Number.POSITIVE_INFINITY })
    })
    freeListHead = chain[0] ?? 0
    freePages = entries.length
  }
  assert(new Set(plan.map((p) => p.page)).size === plan.length, 'a checkpoint writes one page twice')
  const metadata = plan.slice(metadataFrom)
  const metaCopies = decideCopies(db, metadata, epoch)
  assert(metaCopies.every((c) => c.snapshots.every((s) => s.named === undefined)), 'a metadata page held what a named snapshot needs')
  publish(db, metadata)
  copyOldContent(db, metaCopies)
  // Values the WAL reset drops that snapshots can still see.
  for (const v of db.values.dropped()) {
    const snapshots = db.snapshots.seeingSeqs(v.seq, v.removedSeq as number)
    if (snapshots.length > 0) db.store.saveValue(v.lsn, db.readWalValueFor(v.lsn, v.length, 'preimage'), snapshots)
  }
  const record: CheckpointRecord = {
    seq: db.seq,
    dataBytes: tree.dataBytes,
    root: tree.root.address,
    pageCount: db.table.pageCount,
    freeListHead,
    freePages,
    images: plan.length,
    catalogue: db.catalogue.chain.head,
    flags: changes.restore ? RESTORE_FLAG : 0,
  }
  // 6. (a) Full page images first: from here on recovery can finish the checkpoint.
  const salt = db.wal.salt
  const parts = plan.map((p) => sealRecord(stampPageRecord(p.framed, p.page), RecordType.PAGE, salt))
  const marker = frameRecord(RecordType.CHECKPOINT, encodeCheckpoint(record), salt)
  db.wal.append([...parts, marker], 'page')
  for (const p of plan) if (p.purpose !== 'page') db.fs.io.reassign('page', p.purpose, p.framed.length)
  db.fs.io.reassign('page', 'meta', marker.length)
  const walBase = db.wal.end
  await db.wal.sync()
  // 7. (b) The copies of step 3 are durable before any page they preserve is overwritten.
  await db.store.sync()
  // 8. (c) In place.
  db.pages.writePages(plan.map((p) => ({ page: p.page, image: imageOf(p), purpose: p.purpose })))
  await db.pages.sync()
  // 9. (d) The meta names the checkpoint and where the WAL after it begins.
  const { images: _images, flags: _flags, ...fields } = record
  const meta: Meta = { ...db.meta, ...fields, generation: db.meta.generation + 1, walBase }
  db.pages.writeMeta(meta)
  await db.pages.sync()
  db.meta = meta
  // 10. (e) A new WAL generation; the values of the old one are moved or saved.
  db.wal.reset(walBase)
  await db.wal.sync()
  db.inFlight.clear()
  db.table.committed()
  db.values.resetGeneration()
  db.values.prune(db.snapshots.oldestEpoch())
  db.dirtied = 0
  db.checkpoints++
  // 11. The cache takes the clean nodes of the head, so its budget bounds them; but not those a
  // snapshot older than this checkpoint reaches, which would read its own copy back for a page.
  cacheWritten(tree.root, db.cache, reachedByOlderSnapshots(db, epoch))
}

/** Whether a node is reached, through nodes in memory, from a snapshot taken before checkpoint `epoch`. */
function reachedByOlderSnapshots(db: Database, epoch: number): (node: Node) => boolean {
  const reached = new Set<Node>()
  const visit = (node: Node): void => {
    if (reached.has(node)) return
    reached.add(node)
    if (!node.leaf) for (const child of node.children) if (typeof child !== 'number') visit(child)
  }
  for (const s of db.snapshots.all()) if (s.epoch < epoch && s.root !== undefined) visit(s.root)
  return (node) => reached.has(node)
}

/** Pages whose old content snapshots still need, with those snapshots. */
interface CopyDecision {
  page: number
  snapshots: CowSnapshot[]
}

/**
 * The live snapshots that may still read what each planned page holds now, and hold no copy of it
 * yet (the LVM rule, docs/architecture.md §Which snapshots need a page). Decided before the page
 * table learns the new versions.
 */
function decideCopies(db: Database, pages: readonly PlannedPage[], epoch: number): CopyDecision[] {
  const decisions: CopyDecision[] = []
  if (db.snapshots.count === 0) return decisions
  for (const p of pages) {
    const range = db.table.oldContent(p.page, epoch)
    const snapshots = range ? db.snapshots.within(range).filter((s) => !db.store.has(s, p.page)) : []
    if (snapshots.length > 0) decisions.push({ page: p.page, snapshots })
  }
  return decisions
}

/** The planned pages are the newest versions from now on: the head reads them in flight, and the page table knows who may read them. */
function publish(db: Database, pages: readonly PlannedPage[]): void {
  db.publishes++
  for (const p of pages) {
    db.cache.forget(p.page as PageAddress)
    db.inFlight.set(p.page, imageOf(p))
    db.table.written(p.page, p.visibleFrom)
  }
}

/**
 * Copies the old content of each decided page, which pages.db still holds, to its snapshots'
 * store (written now, synced by step 7), and lists the copies of named snapshots in their copy
 * lists.
 */
function copyOldContent(db: Database, decisions: readonly CopyDecision[]): void {
  for (const d of decisions) {
    for (const copy of db.store.savePage(d.page, db.pages.readWholeSlot(d.page, 'preimage'), d.snapshots)) copy.snapshot.named?.list.add(copy.entry)
  }
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
  for (let i = 0; i < node.off.length; i++) {
    const value = leafValue(node, i)
    if (!isRef(value) || !isWalValue(value.address)) continue
    const lsn = lsnOf(value.address)
    const first = writeChain(db, node, i, db.readWalValueFor(lsn, value.length, 'value'), epoch - 1, plan)
    db.values.moved(lsn, first, epoch - 1)
  }
}

/**
 * Puts `value` on a new overflow chain, planned from epoch `visibleFrom` on, and points entry
 * `index` of the dirty leaf `leaf` at it. Returns the chain's first page.
 */
function writeChain(db: Database, leaf: Node, index: number, value: Buffer, visibleFrom: number, plan: PlannedPage[]): PageNumber {
  assert(leaf.leaf && leaf.address === NO_ADDRESS, 'a new chain goes in a dirty leaf')
  const pages = Array.from({ length: overflowPageCount(value.length, db.pageSize) }, () => db.table.allocate())
  encodeOverflow(value, pages, db.pageSize, PAGE_RECORD_PREFIX).forEach((framed, j) => {
    plan.push({ page: pages[j] as number, framed, purpose: 'value', visibleFrom })
  })
  const first = pages[0] as PageNumber
  setLeafValue(leaf, index, { address: first, length: value.length })
  db.chains.set(first, pages)
  return first
}
