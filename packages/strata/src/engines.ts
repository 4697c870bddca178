import type { Engine } from '@strata/btree'
import { CowEngine, holdsDatabase as holdsCowDatabase, type StoreMode } from '@strata/cow-engine'
import { holdsDatabase as holdsRowDatabase, RowEngine, type RowEngineOptions } from '@strata/row-engine'
import { ErrorCode, type FileSystem, StrataError } from '@strata/storage'

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

/** `name`, checked to name an engine in the table; anything else is the caller's mistake, a TypeError. */
export function checkEngineName(name: unknown): EngineName {
  if (!isEngineName(name)) {
    const known = Object.keys(ENGINES).map((n) => `'${n}'`).join(', ')
    throw new TypeError(`The 'engine' option must be one of ${known}, received ${typeof name === 'string' ? `'${name}'` : typeof name}`)
  }
  return name
}

/** The opener of engine `name`. */
export function engineOpener(name: EngineName): EngineOpener {
  return ENGINES[name]
}

/**
 * The engine to open the folder `fs` with: the one its files say, which an explicit `asked` must
 * match (STRATA_ENGINE_MISMATCH otherwise, so no open makes a second database beside the first);
 * `asked`, else the default, for a folder with no database.
 */
export function engineFor(fs: FileSystem, asked: EngineName | undefined): EngineName {
  const found = enginesIn(fs)
  if (asked !== undefined && found.length > 0 && !found.includes(asked)) {
    const [held] = found as [EngineName]
    throw new StrataError(
      ErrorCode.ENGINE_MISMATCH,
      `${fs.location} holds a database of engine ${describeEngine(held)}, not of engine ${describeEngine(asked)}: open it with engine: '${held}', or without the engine option`,
    )
  }
  // Of a folder holding both (damaged by hand), the caller's choice opens one; with none, refused.
  return asked ?? engineOf(fs) ?? DEFAULT_ENGINE
}


/** Whether the folder holds a database of each engine, by its files (docs/format.md), reading only. */
const HOLDS = { row: holdsRowDatabase, cow: holdsCowDatabase } satisfies Record<EngineName, (fs: FileSystem) => boolean>

/** What the engines are called in messages, with the file that tells each apart. */
const DESCRIPTIONS: Record<EngineName, string> = {
  row: 'redirect-on-write (META)',
  cow: 'copy-before-write (pages.db)',
}

/** An engine named for messages: `'cow', copy-before-write (pages.db)`. */
export function describeEngine(name: EngineName): string {
  return `'${name}', ${DESCRIPTIONS[name]}`
}

/** The engines whose databases the folder `fs` holds, reading only: none, one, or (a damaged folder) both. */
export function enginesIn(fs: FileSystem): EngineName[] {
  return (Object.keys(HOLDS) as EngineName[]).filter((name) => HOLDS[name](fs))
}

/**
 * The engine of the database in the folder `fs`, told by its files and reading only: `row` for a
 * META file with bytes in it, `cow` for a pages.db whose meta area was written, undefined for
 * neither. A folder holding both holds two databases: STRATA_NOT_A_DATABASE.
 */
export function engineOf(fs: FileSystem): EngineName | undefined {
  const found = enginesIn(fs)
  if (found.length > 1) {
    throw new StrataError(
      ErrorCode.NOT_A_DATABASE,
      `${fs.location} holds two databases, a ${DESCRIPTIONS.row} one and a ${DESCRIPTIONS.cow} one: give each database a folder of its own`,
    )
  }
  return found[0]
}
