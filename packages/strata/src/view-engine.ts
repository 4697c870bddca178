import type { Engine, EngineCursor, EngineSnapshot, EngineStats, Operation, Range, SnapshotEngine } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'

/**
 * A snapshot taken on a view: a hold on the view's own pin, so it needs the named snapshot no
 * more than the view does (the name may be deleted meanwhile).
 */
class ViewSnapshot implements EngineSnapshot {
  readonly pin: EngineSnapshot
  readonly #unhold: () => void
  #released = false

  constructor(pin: EngineSnapshot, unhold: () => void) {
    this.pin = pin
    this.#unhold = unhold
  }

  get seq(): number {
    return this.pin.seq
  }

  get released(): boolean {
    return this.#released
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.#unhold()
  }
}

/**
 * An engine that reads one named snapshot and refuses writes: what a snapshot view runs on. It
 * pins the snapshot's state when it is made and reads that pin until it is closed, whether or not
 * the name is deleted meanwhile; its own snapshots hold the same pin. Closing it (once its
 * snapshots are released) releases the pin, not the engine underneath.
 */
export class SnapshotViewEngine implements Engine {
  readonly #engine: SnapshotEngine
  readonly #name: string
  readonly #pin: EngineSnapshot
  /** Snapshots taken on the view and not yet released: each keeps the pin. */
  #holds = 0
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
    return this.#engine.get(key, this.#state(at))
  }

  iterate(range?: Range, at?: EngineSnapshot): EngineCursor {
    this.#assertOpen()
    return this.#engine.iterate(range, this.#state(at))
  }

  write(_ops: Operation[]): Promise<void> {
    return Promise.reject(new StrataError(ErrorCode.READONLY, `snapshot view ${JSON.stringify(this.#name)} is read-only`))
  }

  snapshot(): EngineSnapshot {
    this.#assertOpen()
    this.#holds++
    return new ViewSnapshot(this.#pin, () => {
      this.#holds--
      if (this.#closed && this.#holds === 0) this.#pin.release()
    })
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
    if (this.#holds === 0) this.#pin.release()
  }

  /** The engine state a read at `at` sees: the view's pin, unless `at` is a released snapshot. */
  #state(at: EngineSnapshot | undefined): EngineSnapshot {
    if (at === undefined) return this.#pin
    if (at.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'Snapshot is not open: cannot use snapshot after release()')
    return at instanceof ViewSnapshot ? at.pin : at
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError(ErrorCode.NOT_OPEN, `snapshot view ${JSON.stringify(this.#name)} is closed`)
  }
}
