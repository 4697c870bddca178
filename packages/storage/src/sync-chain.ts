import { ErrorCode, StrataError } from './errors.js'

/**
 * Orders the syncs of one log, so that each resolves only once it and every sync begun before it
 * have completed: a sync still in flight (a background checkpoint's) may hold writes that a later
 * durable write depends on, and power lost before it completes would lose them. Tracks the durable
 * end: the position before which every completed sync made the log durable.
 */
export class SyncChain {
  readonly #what: string
  readonly #failure: () => Error | undefined
  #last: Promise<void> = Promise.resolve()
  #durableEnd = 0

  /**
   * `what` names the log in errors; `failure` gives the error that left it unusable, if any (a
   * failed sync or write leaves everything after it in doubt).
   */
  constructor(what: string, failure: () => Error | undefined) {
    this.#what = what
    this.#failure = failure
  }

  /** The position before which every record is durable: the end the newest completed sync covered. */
  get durableEnd(): number {
    return this.#durableEnd
  }

  /** Starts the durable end over at `end` (a log started anew there has nothing before it). */
  restart(end: number): void {
    this.#durableEnd = end
  }

  /**
   * Runs `sync`, which makes the log durable up to `end`; resolves once it and every sync begun
   * before it have completed. Rejects if `sync` does, or if the log failed meanwhile.
   */
  run(end: number, sync: () => Promise<void>): Promise<void> {
    const earlier = this.#last
    const done = (async () => {
      await sync()
      await earlier
      const failure = this.#failure()
      if (failure) throw new StrataError(ErrorCode.IO_ERROR, `${this.#what} failed earlier, so this sync cannot make it durable; reopen the database`, { cause: failure })
      if (end > this.#durableEnd) this.#durableEnd = end
    })()
    this.#last = done.catch(() => undefined)
    return done
  }
}
