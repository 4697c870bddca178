/**
 * The queue an engine runs its writes, checkpoints and compactions in, one at a time in call
 * order: a task starts once every task queued before it has settled, and one that fails does not
 * stop the next.
 */
export class TaskQueue {
  #tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it; the result is the task's. */
  run<T>(task: () => Promise<T>): Promise<T> {
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

  /** Resolves once every task queued so far has settled. */
  settled(): Promise<unknown> {
    return this.#tail
  }
}
