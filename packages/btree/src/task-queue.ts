import type { Operation } from './engine.js'

/** A group holds at most this many bytes of keys and values, unless its first batch alone is larger. */
export const GROUP_MAX_BYTES = 1024 * 1024
/** A group holds at most this many operations, unless its first batch alone has more. */
export const GROUP_MAX_OPERATIONS = 16_384

/** A batch in a write group: its operations (keys and values already copied) and whether it is durable. */
export interface PendingBatch {
  readonly ops: Operation[]
  readonly sync: boolean
}

/** Items joined into one group ({@link TaskQueue.joinGroup}), with their callers' promises. */
interface Group<T> {
  readonly items: T[]
  readonly settle: { resolve: () => void; reject: (error: unknown) => void }[]
  bytes: number
  operations: number
}

/**
 * The queue an engine runs its writes, checkpoints and compactions in, one at a time in call
 * order: a task starts once every task queued before it has settled, and one that fails does not
 * stop the next. Writes join groups ({@link TaskQueue.joinGroup}): one task commits a group.
 */
export class TaskQueue {
  #tail: Promise<unknown> = Promise.resolve()
  /** The queued group that items joining now go into; closed once it runs or anything else is queued. */
  #open: Group<unknown> | undefined

  /** Runs `task` after every task queued before it; the result is the task's. */
  run<T>(task: () => Promise<T>): Promise<T> {
    // Whatever is queued from now on runs after this task: no item joining later lands ahead of it.
    this.#open = undefined
    const run = this.#tail.then(task)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /**
   * Runs `check` now, then queues `task`. If `check` throws (the engine is closed, an argument is
   * wrong), the result rejects with that error at once and nothing is queued: a caller's mistake
   * does not wait behind queued work.
   */
  runChecked<T>(check: () => void, task: () => Promise<T>): Promise<T> {
    try {
      check()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.run(task)
  }

  /**
   * Queues `task` with no caller waiting on it, as a checkpoint the policy asks for after a commit:
   * the task records its own failure (the log marks itself failed, and later writes reject naming
   * the cause), so nothing here reports it.
   */
  runInBackground(task: () => Promise<unknown>): void {
    this.run(task).catch(() => undefined)
  }

  /**
   * Adds `item` (a write of `size` bytes and operations) to the open group, queueing a new group
   * when there is none or the open one is full ({@link GROUP_MAX_BYTES}, {@link GROUP_MAX_OPERATIONS}).
   * Items that join while the queue is busy (a group before being written or synced) so share one
   * task: when its turn comes the group closes and `commit` gets its items in the order they
   * joined. Resolves once `commit` does; if it throws, every item of the group rejects with that
   * error. Anything else queued closes the open group, so every item keeps its place among the
   * calls.
   */
  joinGroup<T>(item: T, size: { bytes: number; operations: number }, commit: (items: T[]) => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let group = this.#open as Group<T> | undefined
      if (group === undefined || group.bytes + size.bytes > GROUP_MAX_BYTES || group.operations + size.operations > GROUP_MAX_OPERATIONS) {
        const fresh: Group<T> = { items: [], settle: [], bytes: 0, operations: 0 }
        void this.run(async () => {
          if (this.#open === fresh) this.#open = undefined
          try {
            await commit(fresh.items)
          } catch (error) {
            for (const s of fresh.settle) s.reject(error)
            return
          }
          for (const s of fresh.settle) s.resolve()
        })
        this.#open = fresh as Group<unknown>
        group = fresh
      }
      group.items.push(item)
      group.settle.push({ resolve, reject })
      group.bytes += size.bytes
      group.operations += size.operations
    })
  }

  /**
   * {@link joinGroup} for an engine's write: the batch `ops` (already copied), weighed by its key
   * and value bytes and its operations. `commit` gets the group's batches in order.
   */
  joinWrite(ops: Operation[], sync: boolean, commit: (group: PendingBatch[]) => Promise<void>): Promise<void> {
    let bytes = 0
    for (const op of ops) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
    return this.joinGroup<PendingBatch>({ ops, sync }, { bytes, operations: ops.length }, commit)
  }

  /** Resolves once every task queued so far has settled. */
  settled(): Promise<unknown> {
    return this.#tail
  }
}
