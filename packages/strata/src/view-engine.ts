import type { Engine, EngineCursor, EngineSnapshot, EngineStats, Operation, Range, SnapshotEngine } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'

/**
 * An engine that reads one named snapshot and refuses writes: what a snapshot view runs on. It
 * pins the snapshot while open; its own snapshots are further pins of the same state. Closing it
 * releases the pins, not the engine underneath.
 */
export class SnapshotViewEngine implements Engine {
  readonly #engine: SnapshotEngine
  readonly #name: string
  readonly #pin: EngineSnapshot
  #closed = false

  constructor(engine: SnapshotEngine, name: string) {
    this.#engine = engine
    this.#name = name
    this.#pin = engine.openSnapshot(name)
  }

  get seq(): number {
    return this.#pin.seq
  }

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    this.#assertOpen()
    return this.#engine.get(key, at ?? this.#pin)
  }

  iterate(range?: Range, at?: EngineSnapshot): EngineCursor {
    this.#assertOpen()
    return this.#engine.iterate(range, at ?? this.#pin)
  }

  write(_ops: Operation[]): Promise<void> {
    return Promise.reject(new StrataError(ErrorCode.READONLY, `snapshot view ${JSON.stringify(this.#name)} is read-only`))
  }

  snapshot(): EngineSnapshot {
    this.#assertOpen()
    return this.#engine.openSnapshot(this.#name)
  }

  stats(): EngineStats {
    return this.#engine.stats()
  }

  check(): string[] {
    return this.#engine.check()
  }

  compact(): Promise<void> {
    return Promise.reject(new StrataError(ErrorCode.READONLY, `snapshot view ${JSON.stringify(this.#name)} is read-only`))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#pin.release()
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError(ErrorCode.NOT_OPEN, `snapshot view ${JSON.stringify(this.#name)} is closed`)
  }
}
