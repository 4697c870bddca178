import type { Writable } from 'node:stream'

/** The streams a command writes to: results on `stdout`; errors, notes and progress on `stderr`. */
export interface Streams {
  stdout: Writable
  stderr: Writable
}

/**
 * Where a command's results go. Writes wait while the reader is slow, so a long scan into a pipe
 * does not pile up in memory, and stop quietly once the reader has gone (`strata scan db | head`).
 */
export class Output {
  readonly #streams: Streams
  #gone = false
  #failure: Error | undefined
  #waiting: (() => void)[] = []

  constructor(streams: Streams) {
    this.#streams = streams
    streams.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.#gone = true
      else this.#failure = error
      for (const wake of this.#waiting.splice(0)) wake()
    })
    streams.stdout.on('drain', () => {
      for (const wake of this.#waiting.splice(0)) wake()
    })
  }

  /** Whether the reader of standard output has gone: further results are dropped. */
  get gone(): boolean {
    return this.#gone
  }

  /** Whether standard error is a terminal, where progress bars and notes for a person make sense. */
  get interactive(): boolean {
    return (this.#streams.stderr as Partial<NodeJS.WriteStream>).isTTY === true
  }

  /** Standard error, for progress bars. */
  get stderr(): Writable {
    return this.#streams.stderr
  }

  /** Writes `text` to standard output, resolving once the stream can take more. */
  async write(text: string): Promise<void> {
    if (this.#failure) throw this.#failure
    if (this.#gone || text === '') return
    if (this.#streams.stdout.write(text)) return
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
    if (this.#failure) throw this.#failure
  }

  /** Writes `value` to standard output as indented JSON, on lines of its own. */
  json(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** Writes one line to standard error: errors, and notes meant for a person. */
  note(line: string): void {
    this.#streams.stderr.write(`${line}\n`)
  }
}
