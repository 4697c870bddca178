import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname } from 'node:path'

/** What every results file records about the run that wrote it. */
export interface RunRecord {
  date: string
  node: string
  machine: string
  /** Whether this was a `--quick` smoke run (figures from tiny databases: not for the docs). */
  quick: boolean
}

/** The machine, as the docs describe it: cores, CPU model and memory. */
export function describeMachine(): string {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`
}

/** A {@link RunRecord} for a run happening now. */
export function runRecord(quick: boolean): RunRecord {
  return { date: new Date().toISOString(), node: process.version, machine: describeMachine(), quick }
}

/** Writes `value` as indented JSON to `path`, making its folder. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Reads the JSON at `path`; the caller names the shape it expects. */
export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T
}
