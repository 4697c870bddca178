import type { Engine } from '@strata/btree'
import { CowEngine, type StoreMode } from '@strata/cow-engine'
import { RowEngine, type RowEngineOptions } from '@strata/row-engine'
import type { FileSystem } from '@strata/storage'

/**
 * Tuning passed through to the engine as it opens: page size, checkpoint policy and read-only opens
 * for both engines, segment size for the redirect-on-write engine, and the pre-image
 * store mode (`'shared'` by default, or `'per-snapshot'`) for the copy-before-write engine. A
 * database that exists keeps its page size.
 */
export type EngineOptions = Omit<RowEngineOptions, 'fs' | 'createIfMissing' | 'errorIfExists'> & { store?: StoreMode }

/** What StrataLevel hands an engine to open it. */
export interface EngineOpenRequest {
  fs: FileSystem
  createIfMissing: boolean
  errorIfExists: boolean
  tuning: EngineOptions
}

/** Opens one kind of engine. */
export type EngineOpener = (request: EngineOpenRequest) => Promise<Engine>

/** The engines StrataLevel can run on, by the name the `engine` option takes; nothing else names engines. */
const ENGINES = {
  row: ({ fs, createIfMissing, errorIfExists, tuning }) => {
    const { store: _, ...row } = tuning
    return RowEngine.open({ ...row, fs, createIfMissing, errorIfExists })
  },
  cow: ({ fs, createIfMissing, errorIfExists, tuning }) => {
    const { segmentBytes: _, ...cow } = tuning
    return CowEngine.open({ ...cow, fs, createIfMissing, errorIfExists })
  },
} satisfies Record<string, EngineOpener>

/** The name of an engine StrataLevel can run on. */
export type EngineName = keyof typeof ENGINES

/** The engine a database uses when its options name none. */
export const DEFAULT_ENGINE: EngineName = 'row'

/** Whether `name` names an engine in the table. */
function isEngineName(name: unknown): name is EngineName {
  return typeof name === 'string' && Object.hasOwn(ENGINES, name)
}

/** The opener of engine `name`; a name that is not in the table is the caller's mistake, a TypeError. */
export function engineOpener(name: unknown): EngineOpener {
  if (!isEngineName(name)) {
    const known = Object.keys(ENGINES).map((n) => `'${n}'`).join(', ')
    throw new TypeError(`The 'engine' option must be one of ${known}, received ${typeof name === 'string' ? `'${name}'` : typeof name}`)
  }
  return ENGINES[name]
}
