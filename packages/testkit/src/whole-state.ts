import type { Engine, SnapshotEngine } from '@strata/btree'
import { readAll } from './engine-factory.js'
import { fingerprint, type Model } from './model.js'

/** Whether an engine keeps durable named snapshots (the ROW engine does; the COW engine does not). */
export function hasNamedSnapshots(engine: Engine): engine is SnapshotEngine {
  return typeof (engine as Partial<SnapshotEngine>).createSnapshot === 'function'
}

/** What a test expects a database to hold: the head, and each named snapshot's entries. */
export interface ExpectedState {
  /** Sequence number of the last batch or restore in the head. */
  seq: number
  head: Model
  named: ReadonlyMap<string, Model>
}

/** The fingerprint of an expected state, comparable with {@link wholeStateOf}. */
export function expectedStateKey(state: ExpectedState): string {
  const parts = [`head:${state.head.fingerprint()}`]
  for (const name of [...state.named.keys()].sort()) parts.push(`${name}:${state.named.get(name)?.fingerprint()}`)
  return parts.join('|')
}

/** The fingerprint of everything an engine shows: the head's entries, and each named snapshot's. */
export function wholeStateOf(engine: Engine): string {
  const parts = [`head:${fingerprint(readAll(engine))}`]
  if (hasNamedSnapshots(engine)) {
    for (const { name } of engine.listSnapshots()) {
      const snapshot = engine.openSnapshot(name)
      try {
        parts.push(`${name}:${fingerprint(readAll(engine, snapshot))}`)
      } finally {
        snapshot.release()
      }
    }
  }
  return parts.join('|')
}
