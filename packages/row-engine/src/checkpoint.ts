import { cacheWritten, checkPositiveFields, replayEstimateMs, DEFAULT_LOG_CHECKPOINT_POLICY, dirtyLeaves, type LogCheckpointPolicy, NO_ADDRESS, type Node, type PageAddress, spill, spillNode } from '@strata/btree'
import { ErrorCode, frameRecord, type Purpose, RECORD_HEADER_BYTES, sealRecord, StrataError, writeU64 } from '@strata/storage'
import type { LogAddress } from './address.js'
import { encodeCheckpoint, type StoredSnapshot } from './checkpoint-record.js'
import { queueCleaning, removeEmptySegments } from './cleaning.js'
import type { Database } from './database.js'
import type { NamedEntry } from './named.js'
import { RecordType } from './record.js'
import { overSpace } from './space-policy.js'

/** When to checkpoint: the policy both engines share, and its turns (docs/architecture.md §Checkpoint policy). */
export interface CheckpointPolicy extends LogCheckpointPolicy {
  /**
   * Pages a policy checkpoint writes per turn of the write queue: it writes dirty leaves in turns
   * of this many, letting the writes queued meanwhile go between them, then the rest at once.
   */
  slicePages: number
}

/** The policy the ROW engine uses unless told otherwise. */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = { ...DEFAULT_LOG_CHECKPOINT_POLICY, slicePages: 4096 }

/**
 * Past the space aim, a checkpoint comes once the log holds this share of what the ratio asks, if
 * the pages dirtied are less than half the tree: where the log and the pages it dirties grow alike
 * (overwrites in key order), waiting for the ratio lets the log grow to the whole tree, and an
 * earlier checkpoint costs about the same page writes.
 */
const SPACE_EARLY = 0.9

/** `policy` with every field checked: a field that is not a positive number is a RangeError. */
export function checkPolicy(policy: CheckpointPolicy): CheckpointPolicy {
  checkPositiveFields(policy)
  if (!Number.isInteger(policy.slicePages)) throw new RangeError('checkpoint.slicePages must be a positive integer')
  return policy
}

/** Whether the policy asks for a checkpoint now. */
export function wantsCheckpoint(db: Database): boolean {
  const p = db.policy
  const since = db.logSinceCheckpoint
  if (since >= p.maxLogBytes || replayEstimateMs(since, 0, db.replayScale) >= p.maxReplayMs) return true
  if (since < minLogBytes(db)) return false
  const dirtied = db.dirtiedSinceCheckpoint
  const owed = p.ratio * dirtied
  if (since >= owed) return true
  // Early only while the pages dirtied grow with the log: a checkpoint that rewrites most of the
  // tree costs the same later, and coming early would only add checkpoints.
  return since >= SPACE_EARLY * owed && dirtied < db.space.liveBytes() / 2 && overSpace(db)
}

/**
 * The log a checkpoint waits for: `minLogBytes`, or a quarter of the live data when that is
 * less (down to an eighth of `minLogBytes`), so a small database's log stays small beside it.
 */
function minLogBytes(db: Database): number {
  const p = db.policy
  return Math.min(p.minLogBytes, Math.max(p.minLogBytes / 8, db.tree.dataBytes / 4))
}

/**
 * A policy checkpoint under way beside the writes (docs/architecture.md §Checkpoints beside the
 * writes): the head's state it froze, and what it needs to describe that state once its pages are
 * written.
 */
export interface FrozenCheckpoint {
  /** The frozen root: writes copy what they change from here on, so the tree under it stays as it was. */
  root: Node
  seq: number
  dataBytes: number
  /** The named snapshots at the freeze. */
  named: NamedEntry[]
  /** The log's end at the freeze: the batches after `seq` follow it, and the replay starts there. */
  replayFrom: LogAddress
  /** Dirty nodes of the frozen tree that the head left before they were written, with the sequence number that left them. */
  left: WeakMap<Node, number>
}

/**
 * Queues one turn of a policy checkpoint behind the writes already queued. The first turn freezes
 * the head's state (a snapshot in memory: writes copy what they change from then on) and notes
 * where the log ends; each turn writes up to `slicePages` dirty leaves of that frozen tree and
 * queues the next behind the writes queued meanwhile; the last writes its dirty branches, the
 * pages only named snapshots use, and the CHECKPOINT record, which says to replay from where the
 * log ended at the freeze. Writes thus wait for one turn at a time, and no leaf is written twice:
 * what a write changes after the freeze is the next checkpoint's.
 */
export function queueCheckpointTurn(db: Database, frozen?: FrozenCheckpoint): void {
  void db.tasks
    .run(() => {
      // Not wanted any more (after the first turn: another checkpoint, such as a compaction's, gave this one up).
      if (db.closed || db.log.broken || (frozen ? db.frozen !== frozen : !wantsCheckpoint(db))) {
        db.checkpointQueued = false
        return Promise.resolve()
      }
      if (!frozen) {
        // The checkpoint before is still reaching the disk: freeze once it has, without holding the writes.
        if (db.checkpointInFlight) {
          void db.checkpointDone.then(() => queueCheckpointTurn(db))
          return Promise.resolve()
        }
        // A checkpoint's pages start a segment of their own.
        startSegment(db)
        frozen = freeze(db)
      }
      if (writeDirtyLeaves(db, frozen.root, db.policy.slicePages) === db.policy.slicePages) {
        queueCheckpointTurn(db, frozen)
        return Promise.resolve()
      }
      db.checkpointQueued = false
      return checkpoint(db, 'page', { background: true, frozen })
    })
    .catch((error: unknown) => {
      db.checkpointQueued = false
      if (db.frozen) abandonFrozen(db)
      // STRATA_LOG_FULL wrote nothing: writes that fit what is left of the last segment go on, and
      // the next one tries again (docs/errors.md §STRATA_LOG_FULL).
      if (error instanceof StrataError && error.code === ErrorCode.LOG_FULL) return
      // Else the log is marked failed (here, if the failure came before any write, such as a
      // segment that could not be created): every later write rejects with STRATA_IO_ERROR naming
      // this error as its cause, and reads go on.
      if (!db.log.broken) db.log.fail(error as Error)
    })
}

/** Freezes the head's state for a checkpoint beside the writes. */
function freeze(db: Database): FrozenCheckpoint {
  const frozen: FrozenCheckpoint = {
    root: db.tree.freeze(),
    seq: db.seq,
    dataBytes: db.tree.dataBytes,
    named: [...db.named.values()],
    replayFrom: db.log.end as LogAddress,
    left: new WeakMap(),
  }
  db.frozen = frozen
  db.space.freeze()
  // What the policy weighs from now on is what the next checkpoint will owe.
  db.logSinceCheckpoint = 0
  db.dirtiedSinceCheckpoint = 0
  return frozen
}

/**
 * Gives up the checkpoint under way beside the writes (another checkpoint, a restore or a failure
 * comes first). What it wrote stays counted: the head uses those pages, or they were freed when
 * the head left them; its frees wait for the next checkpoint, and so does the log it left.
 */
export function abandonFrozen(db: Database): void {
  if (!db.frozen) return
  db.frozen = undefined
  db.space.abandonFreeze()
  // The log since the checkpoint before is still to replay: count it again, roughly, as the log's growth since the freeze is not kept apart.
  db.logSinceCheckpoint = Math.max(db.logSinceCheckpoint, db.policy.minLogBytes)
}

/**
 * Starts a new segment unless the active one holds less than a sixteenth of a segment
 * (`SegmentLog.rollEarly`). A checkpoint's pages and the log after it go to segments of their
 * own: the log is dead as soon as the next checkpoint is durable, so its segment goes whole, and a
 * segment of pages empties as the head stops using them, without dead log among them to be cleaned
 * around (docs/architecture.md §Space policy).
 */
export function startSegment(db: Database): void {
  db.log.rollEarly()
}

/** Writes up to `limit` dirty leaves of the tree under `root` as PAGE records in one write; returns how many. */
function writeDirtyLeaves(db: Database, root: Node, limit: number): number {
  const leaves = dirtyLeaves(root, limit)
  if (leaves.length === 0) return 0
  let bytes = 0
  for (const leaf of leaves) bytes += RECORD_HEADER_BYTES + leaf.bytes
  const start = db.log.prepare(bytes)
  const parts: Buffer[] = []
  let at = 0
  for (const leaf of leaves) {
    spillNode(
      leaf,
      (_node, framed) => {
        parts.push(sealRecord(framed, RecordType.PAGE))
        const address = (start + at + RECORD_HEADER_BYTES) as PageAddress
        at += framed.length
        return address
      },
      RECORD_HEADER_BYTES,
    )
  }
  try {
    const written = db.log.append(parts, 'page', start)
    if (written !== start) throw new Error('strata: invariant broken: the log moved while leaves were written')
  } catch (error) {
    for (const leaf of leaves) leaf.address = NO_ADDRESS
    db.log.fail(error as Error)
    throw error
  }
  for (const leaf of leaves) noteWritten(db, leaf)
  db.slicedBytes += at
  return leaves.length
}

/**
 * Counts a page a checkpoint just wrote as used. A page of a frozen state whose node the head
 * left before it was written is the frozen tree's alone: freed as of the write that left it.
 */
function noteWritten(db: Database, node: Node): void {
  const bytes = RECORD_HEADER_BYTES + node.bytes
  if (db.frozen) {
    db.space.useFrozen(node.address, bytes)
    const left = db.frozen.left.get(node)
    if (left !== undefined) db.space.free({ address: node.address, bytes, born: node.born, seq: left })
  } else {
    db.space.use(node.address, bytes)
  }
  db.noteBorn(node.address, node.born)
}

/**
 * Makes the head tree durable as pages, so the log before it is no longer needed:
 * 1. Spill every dirty page, children first, each to a new place after the log's end.
 * 2. Append the pages and a CHECKPOINT record (root, sequence, space table) in one write, and
 *    hand the written nodes to the page cache (docs/architecture.md §The page cache); sync.
 * 3. Point META at the checkpoint; sync. Recovery now starts here.
 * 4. Release the space of pages and values the new tree no longer uses, and remove segments
 *    nothing uses; clean the emptiest sealed segments.
 * With `background`, it resolves once steps 1 and 2 are laid out, and steps 3 and 4 go on off
 * the write queue.
 */
export async function checkpoint(db: Database, purpose: Purpose = 'page', options: { background?: boolean; frozen?: FrozenCheckpoint } = {}): Promise<void> {
  // One checkpoint at a time: each is laid out only once the one before it is durable.
  const previous = db.checkpointDone
  let finish!: () => void
  db.checkpointDone = new Promise<void>((resolve) => {
    finish = () => {
      db.checkpointInFlight = false
      resolve()
    }
  })
  db.checkpointInFlight = true
  await previous
  let done: Promise<void>
  try {
    done = layOutCheckpoint(db, purpose, options.frozen)
  } catch (error) {
    finish()
    throw error
  }
  done.then(finish, finish)
  if (!options.background) await done
}

/**
 * Steps 1 and 2 of a checkpoint; returns steps 3 and 4 under way. Of the head as it is now, or of
 * the state `frozen` froze (its leaves written by the turns before); a checkpoint of the head
 * gives up a frozen one under way.
 */
function layOutCheckpoint(db: Database, purpose: Purpose, frozen: FrozenCheckpoint | undefined): Promise<void> {
  if (db.log.broken) return Promise.resolve()
  if (frozen && db.frozen !== frozen) return Promise.resolve()
  if (!frozen) abandonFrozen(db)
  const root = frozen ? frozen.root : db.tree.root
  const seq = frozen ? frozen.seq : db.seq
  const named = frozen ? frozen.named : [...db.named.values()]
  // 1. Spill: each page is encoded behind room for its record header, and written with the
  // others in one gathered write. The tree first; then what only named snapshots reach, whose
  // pages the tree does not use: they are held for those snapshots from the start.
  const dirtyBytes = measureDirty(root) + named.reduce((sum, n) => sum + (n.node ? measureDirty(n.node) : 0), 0)
  const start = db.log.prepare(dirtyBytes + 65536)
  const parts: Buffer[] = []
  const spilled: Node[] = []
  let at = 0
  const writer = (node: Node, framed: Buffer) => {
    parts.push(sealRecord(framed, RecordType.PAGE))
    spilled.push(node)
    const address = (start + at + RECORD_HEADER_BYTES) as PageAddress
    at += framed.length
    return address
  }
  spill(root, writer, RECORD_HEADER_BYTES)
  const treePages = spilled.length
  for (const n of named) if (n.node) spill(n.node, writer, RECORD_HEADER_BYTES)
  // The spilled pages are clean now, so the space map counts them at once; those only named
  // snapshots use are freed as of the next state, and commit with this checkpoint.
  for (const node of spilled) noteWritten(db, node)
  for (const node of spilled.slice(treePages)) {
    const free = { address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: seq + 1 }
    if (frozen) db.space.freeCommitting(free)
    else db.space.free(free)
  }
  let live: Map<number, number>
  if (frozen) {
    live = db.space.frozenLive()
  } else {
    live = new Map(db.space.live)
    for (const [segment, bytes] of db.space.pendingBySegment()) live.set(segment, (live.get(segment) ?? 0) - bytes)
  }
  for (const [segment, bytes] of live) if (bytes === 0) live.delete(segment)
  const snapshots: StoredSnapshot[] = named.map(({ node, ...stored }) => ({ ...stored, root: node ? node.address : stored.root }))
  // A frozen state's tree still uses what was freed since the freeze: the replay frees it again.
  const held = db.space.heldFor(
    named.map((n) => n.seq),
    !frozen,
  )
  const checkpointAt = (start + at) as LogAddress
  const payload = encodeCheckpoint({ seq, root: root.address, dataBytes: frozen ? frozen.dataBytes : db.tree.dataBytes, live, snapshots, held, replayFrom: 0 })
  // The replay starts where the log ended at the freeze, or just past this record.
  const replayFrom = (frozen ? frozen.replayFrom : checkpointAt + RECORD_HEADER_BYTES + payload.length) as LogAddress
  writeU64(payload, replayFrom, payload.length - 8)
  const record = frameRecord(RecordType.CHECKPOINT, payload)
  parts.push(record)
  // 2. One write of pages and checkpoint. From here the next batches may follow it in the log:
  // replay from this checkpoint, or from the one before it, applies them either way.
  try {
    const written = db.log.append(parts, purpose, start)
    if (written !== start) throw new Error('strata: invariant broken: the log moved during a checkpoint')
  } catch (error) {
    for (const node of spilled) {
      db.space.use(node.address, -(RECORD_HEADER_BYTES + node.bytes))
      node.address = NO_ADDRESS
    }
    db.log.fail(error as Error)
    throw error
  }
  // The pages can be read back now: the cache takes the clean nodes from the trees in memory, so
  // its budget bounds them. A log address names one page for ever, and a page stays in the log
  // while a pinned root reaches it, so every reader of a branch reads the same node back.
  cacheWritten(root, db.cache)
  for (const n of named) if (n.node) cacheWritten(n.node, db.cache)
  db.fs.io.reassign(purpose, 'meta', record.length)
  if (purpose !== 'reclaim') db.fs.io.reassign(purpose, 'reclaim', Math.min(db.relocatedBytes, at + db.slicedBytes))
  db.relocatedBytes = 0
  db.slicedBytes = 0
  if (frozen) {
    db.frozen = undefined
  } else {
    db.space.beginCommit()
    db.logSinceCheckpoint = 0
    db.dirtiedSinceCheckpoint = 0
  }
  db.logAfterCheckpoint = true
  // 3–4. Durable, then named in META, then its frees released. A policy checkpoint does this off
  // the write queue, so writes go on while its pages reach the disk.
  return completeCheckpoint(db, checkpointAt, seq, replayFrom, purpose)
}

/** Steps 3 and 4 of a checkpoint laid out at `checkpointAt`: sync, point META at it, release space. */
async function completeCheckpoint(db: Database, checkpointAt: LogAddress, seq: number, replayFrom: LogAddress, purpose: Purpose): Promise<void> {
  try {
    await db.log.sync()
    // 3. Recovery starts here from now on.
    await db.meta.update(checkpointAt, seq)
  } catch (error) {
    // The log takes no more writes after this; space figures are rebuilt by the next open.
    db.log.fail(error as Error)
    throw error
  }
  // 4. Space.
  db.space.commitFrees()
  db.checkpointAt = checkpointAt
  db.replayFrom = replayFrom
  db.checkpoints++
  removeEmptySegments(db)
  if (purpose === 'page' && !db.closed) {
    // The segments the policy picks, within a budget, their pages written by the next policy
    // checkpoint: cleaning is spread over the writes instead of stopping them while the whole
    // tree moves at once.
    queueCleaning(db)
  }
}

/** Bytes of the PAGE records a spill of `root` will write. */
function measureDirty(root: Node): number {
  if (root.address !== NO_ADDRESS) return 0
  let bytes = RECORD_HEADER_BYTES + root.bytes
  if (!root.leaf) for (const child of root.children) if (typeof child !== 'number') bytes += measureDirty(child)
  return bytes
}
