import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { SnapshotEngine } from '@strata/btree'
import { CowEngine, type StoreMode } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { runCli } from './program.js'

/** What one run of the command gave: its exit status and everything it wrote. */
export interface CliRun {
  status: number
  stdout: string
  stderr: string
}

/** Runs `strata args…` in this process, capturing its output. */
export async function strata(...args: string[]): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString())
        done()
      },
    })
  const status = await runCli(args, { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) })
  return { status, stdout, stderr }
}

/** The built command, `dist/bin.js`, which `npx tsc -b` writes. */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js')

/** Runs the built `strata args…` in a child process, so the exit status is a real one. */
export function strataProcess(...args: string[]): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 })
  if (run.error) throw run.error
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }
}

/** Temporary folders, each removed by {@link removeTemporaryFolders}. */
const folders: string[] = []

/** A new empty temporary folder. */
export function temporaryFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'))
  folders.push(dir)
  return dir
}

/** Removes every folder {@link temporaryFolder} made; for `afterEach`. */
export function removeTemporaryFolders(): void {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** The entries of {@link sampleDatabase}: text, binary, a value stored out of line, and a key that reads like hex. */
export const SAMPLE = {
  orders: 300,
  binaryKey: Buffer.from([0x00, 0x01, 0xff]),
  binaryValue: Buffer.from([0x09, 0x00, 0xfe]),
  largeValue: Buffer.alloc(5000, 'x'),
}

/** The key of order `i` in {@link sampleDatabase}. */
export const orderKey = (i: number): string => `order:${String(i).padStart(4, '0')}`

/** A copy-before-write test database, made in one store mode. */
export interface CowDatabaseKind {
  name: string
  engine: 'cow'
  store: StoreMode
}

/** Which engine a test database is made with: redirect-on-write by default, or copy-before-write. */
export type DatabaseKind = { name: string; engine: 'row' } | CowDatabaseKind

/** The kind of database the tests make unless they name another. */
const ROW_DATABASE: DatabaseKind = { name: 'redirect-on-write', engine: 'row' }

/** The copy-before-write kinds, one per store mode, for `describe.each`. */
export const COW_DATABASES: readonly CowDatabaseKind[] = [
  { name: 'copy-before-write, shared store', engine: 'cow', store: 'shared' },
  { name: 'copy-before-write, per-snapshot stores', engine: 'cow', store: 'per-snapshot' },
]

/** Every kind of database the commands open, for `describe.each`. */
export const DATABASE_KINDS: readonly DatabaseKind[] = [ROW_DATABASE, ...COW_DATABASES]

/** Engine tuning a test may give: the ROW engine's segment size, either engine's checkpoint policy. */
export interface EngineTuning {
  segmentBytes?: number
  checkpoint?: { minLogBytes: number }
}

/** Opens (creating it if need be) the database of `kind` in `dir` for writing, as an application would. */
export function openEngine(dir: string, kind: DatabaseKind = ROW_DATABASE, tuning: EngineTuning = {}): Promise<SnapshotEngine> {
  const fs = new NodeFileSystem(dir)
  if (kind.engine === 'row') return RowEngine.open({ fs, ...tuning })
  const { segmentBytes: _, ...cow } = tuning
  return CowEngine.open({ fs, store: kind.store, ...cow })
}

/** The file a database of `kind` logs its commits to first. */
export function logFileOf(kind: DatabaseKind): string {
  return kind.engine === 'row' ? 'seg-00000001.log' : 'wal.log'
}

/** A closed database of `kind` in a new temporary folder holding {@link SAMPLE}'s entries, written in several batches. */
export async function sampleDatabase(kind?: DatabaseKind, options: EngineTuning = {}): Promise<string> {
  const dir = temporaryFolder()
  const engine = await openEngine(dir, kind, options)
  for (let from = 0; from < SAMPLE.orders; from += 100) {
    const ops = Array.from({ length: 100 }, (_, i) => ({
      type: 'put' as const,
      key: Buffer.from(orderKey(from + i)),
      value: Buffer.from(JSON.stringify({ total: from + i })),
    }))
    await engine.write(ops)
  }
  await engine.write([
    { type: 'put', key: SAMPLE.binaryKey, value: SAMPLE.binaryValue },
    { type: 'put', key: Buffer.from('large'), value: SAMPLE.largeValue },
    { type: 'put', key: Buffer.from('0x41'), value: Buffer.from('looks like hex') },
  ])
  await engine.close()
  return dir
}

/** Every file of a folder with its bytes, to show a command wrote nothing. */
export function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]))
}

/** What is at `path` (nothing, a file's bytes, or a folder's files and their bytes), to show a command changed nothing there. */
export function stateOf(path: string): string {
  if (!existsSync(path)) return 'nothing'
  if (!statSync(path).isDirectory()) return `file ${readFileSync(path).toString('hex')}`
  return [...filesOf(path)].map(([name, bytes]) => `${name} ${bytes.toString('hex')}`).join('\n')
}

/** Log record types (docs/format.md §Log records). */
export const RecordType = { PAGE: 2, CHECKPOINT: 3, VALUE: 4 } as const

/** The offset and type of every record in segment 1 of the database in `dir`, in order. */
export function recordsOf(dir: string): { at: number; type: number }[] {
  const log = readFileSync(join(dir, 'seg-00000001.log'))
  const records: { at: number; type: number }[] = []
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readUInt32LE(at + 4)) records.push({ at, type: log[at + 8] as number })
  return records
}

/** Flips the bits of one byte of segment 1, `at` bytes into it. */
export function flipByte(dir: string, at: number): void {
  const path = join(dir, 'seg-00000001.log')
  const log = readFileSync(path)
  log[at] = (log[at] as number) ^ 0xff
  writeFileSync(path, log)
}

/**
 * Damages a record the current tree uses: a byte inside the first record of `type` after the first
 * CHECKPOINT record of segment 1 (a PAGE before it is a new database's empty root).
 */
export function damageRecord(dir: string, type: number): void {
  const records = recordsOf(dir)
  const firstCheckpoint = records.findIndex((r) => r.type === RecordType.CHECKPOINT)
  const record = records.slice(firstCheckpoint).find((r) => r.type === type)
  if (!record) throw new Error(`no record of type ${type} to damage`)
  flipByte(dir, record.at + 40)
}

/** A path that is not a database, and what every command says about it. */
export interface BadDatabase {
  what: string
  /** Makes the path; returns it. */
  make: () => string
  code: string
  status: number
}

/** The paths every command must refuse, with the code and exit status of the refusal. */
export const BAD_DATABASES: readonly BadDatabase[] = [
  { what: 'a missing folder', make: () => join(temporaryFolder(), 'missing'), code: 'STRATA_DATABASE_NOT_FOUND', status: 3 },
  {
    what: 'a file that is not a database',
    make: () => {
      const path = join(temporaryFolder(), 'notes.txt')
      writeFileSync(path, 'not a database\n')
      return path
    },
    code: 'STRATA_NOT_A_DATABASE',
    status: 4,
  },
  { what: 'a folder without META or pages.db', make: () => folderWith({}), code: 'STRATA_NOT_A_DATABASE', status: 4 },
  { what: 'a folder whose META is empty', make: () => folderWith({ META: '' }), code: 'STRATA_NOT_A_DATABASE', status: 4 },
  { what: 'a folder whose pages.db has no meta area written', make: () => folderWith({ 'pages.db': Buffer.alloc(8192) }), code: 'STRATA_NOT_A_DATABASE', status: 4 },
  {
    what: 'a folder holding both a META and a pages.db',
    make: () => folderWith({ META: Buffer.alloc(1024, 1), 'pages.db': Buffer.alloc(8192, 1) }),
    code: 'STRATA_NOT_A_DATABASE',
    status: 4,
  },
]

/** A new temporary folder holding `files`, by name. */
function folderWith(files: Record<string, string | Buffer>): string {
  const dir = temporaryFolder()
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes)
  return dir
}

/** Asserts that `run` refused `path` with `code` and `status`, printing nothing on standard output. */
export function expectRefusal(run: CliRun, path: string, code: string, status: number): void {
  if (run.status !== status || run.stdout !== '' || !run.stderr.startsWith(`strata: ${path} `) || !run.stderr.endsWith(` (${code})\n`)) {
    throw new Error(`expected ${path} to be refused with ${code} and status ${status}, got ${JSON.stringify(run)}`)
  }
}

/**
 * Names the sample database's state `end-of-day`, then changes the head: order 1 gets total −1,
 * order 2 is deleted and order 9999 is added. `kind` must be the one the database was made with.
 */
export async function snapshotThenChange(dir: string, kind?: DatabaseKind): Promise<void> {
  const engine = await openEngine(dir, kind)
  await engine.createSnapshot('end-of-day')
  await engine.write([
    { type: 'put', key: Buffer.from(orderKey(1)), value: Buffer.from(JSON.stringify({ total: -1 })) },
    { type: 'del', key: Buffer.from(orderKey(2)) },
    { type: 'put', key: Buffer.from(orderKey(9999)), value: Buffer.from(JSON.stringify({ total: 9999 })) },
  ])
  await engine.close()
}
