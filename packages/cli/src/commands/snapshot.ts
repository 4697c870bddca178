import { HEAD, SnapshotManager } from '@strata/snapshots'
import type { Command } from 'commander'
import { showBytes } from '../bytes-text.js'
import { CliError, CliErrorCode } from '../cli-error.js'
import { createDatabaseLike, withDatabase } from '../database.js'
import { changeJson, showValue, type ValueEncoding, valueEncodingOption } from '../entry-json.js'
import { bytes, count, table } from '../human-format.js'
import { positiveInteger } from '../option-parsers.js'
import type { Output } from '../output.js'

interface JsonOption {
  json?: true
}

function parseMeta(text: string | undefined): unknown {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CliError(CliErrorCode.USAGE, `--meta must be JSON: ${(error as Error).message}`)
  }
}

/**
 * Adds `strata snapshot create|list|delete|diff|export|clone|restore`: named durable snapshots
 * (docs/snapshots.md). `list`, `diff` and `export` open the database read-only.
 */
export function addSnapshotCommand(program: Command, output: Output): void {
  const group = program.command('snapshot').description('named durable snapshots: create, list, delete, diff, export, clone, restore')

  group
    .command('create')
    .description('name the current state of the database; durable when the command ends')
    .argument('<db>', 'the database folder')
    .argument('<name>', 'the snapshot name (1 to 255 bytes of UTF-8)')
    .option('--meta <json>', 'metadata to keep with the snapshot, as JSON')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, name: string, options: JsonOption & { meta?: string }) => {
      const meta = parseMeta(options.meta)
      const info = await withDatabase(db, 'write', (engine) => new SnapshotManager(engine).create(name, { meta }))
      await (options.json ? output.json(info) : output.write(`created snapshot ${info.name} at sequence ${info.seq}\n`))
    })

  group
    .command('list')
    .description('list the named snapshots, oldest first, with the bytes only each keeps')
    .argument('<db>', 'the database folder')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, options: JsonOption) => {
      const list = await withDatabase(db, 'read', async (engine) => new SnapshotManager(engine).list())
      if (options.json) return output.json(list)
      if (list.length === 0) return output.write('no snapshots\n')
      const rows = list.map((s): [string, string] => [s.name, `seq ${count(s.seq)}, ${s.createdAt.toISOString()}, keeps ${bytes(s.exclusiveBytes)}${s.meta === undefined ? '' : `, meta ${JSON.stringify(s.meta)}`}`])
      await output.write(table(rows))
    })

  group
    .command('delete')
    .description('delete a named snapshot; the space only it kept is reclaimed')
    .argument('<db>', 'the database folder')
    .argument('<name>', 'the snapshot name')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, name: string, options: JsonOption) => {
      await withDatabase(db, 'write', (engine) => new SnapshotManager(engine).delete(name))
      await (options.json ? output.json({ deleted: name }) : output.write(`deleted snapshot ${name}\n`))
    })

  group
    .command('restore')
    .description('make the current state that of a named snapshot (one atomic, durable commit)')
    .argument('<db>', 'the database folder')
    .argument('<name>', 'the snapshot name')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, name: string, options: JsonOption) => {
      await withDatabase(db, 'write', (engine) => new SnapshotManager(engine).restore(name))
      await (options.json ? output.json({ restored: name }) : output.write(`restored snapshot ${name}\n`))
    })

  group
    .command('diff')
    .description(`list the keys whose values differ between two states: snapshot names, or '${HEAD}'`)
    .argument('<db>', 'the database folder')
    .argument('<from>', `a snapshot name, or '${HEAD}'`)
    .argument('[to]', `a snapshot name, or '${HEAD}'`, HEAD)
    .option('--limit <n>', 'list at most this many changes', positiveInteger)
    .option('--hex', 'print keys and values in hex')
    .addOption(valueEncodingOption())
    .option('--json', 'print one JSON object per change: {change, before, after}, each side an entry as get --json prints it, or null')
    .action(async (db: string, from: string, to: string, options: JsonOption & { hex?: true; limit?: number; valueEncoding?: ValueEncoding }) => {
      const hex = options.hex === true
      const format = { hex, valueEncoding: options.valueEncoding }
      const lines = await withDatabase(db, 'read', async (engine) => {
        const out: string[] = []
        for await (const change of new SnapshotManager(engine).diff(from, to)) {
          if (options.limit !== undefined && out.length >= options.limit) break
          if (options.json) {
            out.push(JSON.stringify(changeJson(change.key, change.before, change.after, format)))
          } else {
            const sign = change.before === undefined ? '+' : change.after === undefined ? '-' : '~'
            const value = change.after ?? change.before
            out.push(`${sign} ${showBytes(change.key, hex)}${value === undefined ? '' : ` ${showValue(value, format)}`}`)
          }
        }
        return out
      })
      await output.write(lines.length === 0 ? (options.json ? '' : 'no changes\n') : `${lines.join('\n')}\n`)
    })

  group
    .command('export')
    .description('copy a named snapshot into a new database folder, of the same engine: consistent and compact')
    .argument('<db>', 'the database folder')
    .argument('<name>', 'the snapshot name')
    .argument('<path>', 'the folder to create the copy in (must not hold a database)')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, name: string, path: string, options: JsonOption) => {
      const result = await withDatabase(db, 'read', (engine) => new SnapshotManager(engine).export(name, path, (target) => createDatabaseLike(engine, target)))
      await (options.json ? output.json({ name, path, ...result }) : output.write(`exported snapshot ${name} to ${path}: ${count(result.entries)} entries, ${bytes(result.bytes)}\n`))
    })

  group
    .command('clone')
    .description("make a writable database at a snapshot's state (or 'head'), sharing the source's sealed log segments by hard link (ROW) or copying its files (COW)")
    .argument('<db>', 'the database folder')
    .argument('<name>', "the snapshot name, or 'head'")
    .argument('<path>', 'the folder to create the clone in (missing or empty)')
    .option('--snapshots', 'keep the named snapshots in the clone')
    .option('--copy', 'copy the segments instead of linking them (ROW; COW always copies)')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, name: string, path: string, options: JsonOption & { snapshots?: true; copy?: true }) => {
      const result = await withDatabase(db, 'write', (engine) => new SnapshotManager(engine).clone(name, path, { snapshots: options.snapshots === true, link: options.copy !== true }))
      await (options.json
        ? output.json({ name, path, ...result })
        : output.write(`cloned ${name} to ${path}: ${count(result.linkedFiles)} files linked, ${count(result.copiedFiles)} copied, ${bytes(result.bytesWritten)} written\n`))
    })
}
