import type { EngineCursor, Range } from '@strata/btree'
import { type Command, Option } from 'commander'
import { parseBytes, showBytes } from '../bytes-text.js'
import { withDatabase } from '../database.js'
import { type EntryFormat, entryJson, showValue, type ValueEncoding, valueEncodingOption } from '../entry-json.js'
import { nonNegativeInteger } from '../option-parsers.js'
import type { Output } from '../output.js'

/** Options of `strata scan`. */
interface ScanOptions {
  prefix?: string
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  limit?: number
  reverse?: true
  hex?: true
  json?: true
  snapshot?: string
  valueEncoding?: ValueEncoding
}

/** Output is gathered into chunks of about this many characters before it is written. */
const CHUNK = 64 * 1024

/** The first key after every key that begins with `prefix`, or undefined when there is none (all 0xff). */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1))
      end[i] = (end[i] as number) + 1
      return end
    }
  }
  return undefined
}

/** The range the options ask for, bounds read as UTF-8 text or, with `--hex`, as hex. */
function rangeOf(options: ScanOptions): Range {
  const hex = options.hex === true
  const bound = (text: string | undefined, name: string) => (text === undefined ? undefined : parseBytes(text, hex, `--${name}`))
  const range: Range = { reverse: options.reverse === true, limit: options.limit ?? -1 }
  if (options.prefix !== undefined) {
    const prefix = parseBytes(options.prefix, hex, '--prefix')
    range.gte = prefix
    range.lt = prefixEnd(prefix)
    return range
  }
  range.gt = bound(options.gt, 'gt')
  range.gte = bound(options.gte, 'gte')
  range.lt = bound(options.lt, 'lt')
  range.lte = bound(options.lte, 'lte')
  return range
}

/** Prints the cursor's entries, in chunks, until they end or the reader of the output goes away. */
async function print(cursor: EngineCursor, output: Output, json: boolean, format: EntryFormat): Promise<void> {
  let chunk = json ? '[' : ''
  let first = true
  for (let entry = cursor.next(); entry && !output.gone; entry = cursor.next()) {
    const [key, value] = entry
    if (json) chunk += `${first ? '\n' : ',\n'}${JSON.stringify(entryJson(key, value, format))}`
    else chunk += `${showBytes(key, format.hex)}\t${showValue(value, format)}\n`
    first = false
    if (chunk.length >= CHUNK) {
      await output.write(chunk)
      chunk = ''
    }
  }
  await output.write(json ? `${chunk}${first ? '' : '\n'}]\n` : chunk)
}

/** A bound option that cannot be combined with `--prefix` or with its other-strictness twin. */
function boundOption(flag: string, description: string, twin: string): Option {
  return new Option(`--${flag} <key>`, description).conflicts(['prefix', twin])
}

/** Adds `strata scan <db>`: prints the entries of a key range in order, read-only. */
export function addScanCommand(program: Command, output: Output): void {
  program
    .command('scan')
    .description('print the entries of a key range in key order, one per line: key, a tab, value (opens the database read-only)')
    .argument('<db>', 'the database folder')
    .option('--prefix <p>', 'only keys that begin with p')
    .addOption(boundOption('gt', 'only keys after this one', 'gte'))
    .addOption(boundOption('gte', 'only keys from this one on', 'gt'))
    .addOption(boundOption('lt', 'only keys before this one', 'lte'))
    .addOption(boundOption('lte', 'only keys up to this one', 'lt'))
    .option('--limit <n>', 'at most n entries', nonNegativeInteger)
    .option('--reverse', 'in descending key order')
    .option('--hex', 'take the prefix and bounds in hex and print keys and values in hex')
    .addOption(valueEncodingOption())
    .option('--json', 'print a JSON array for scripts: [{key, keyEncoding, value, valueEncoding}, …]')
    .option('--snapshot <name>', 'read at the named snapshot instead of the current state')
    .addHelpText('after', '\nKeys and values are printed as UTF-8 text when printable, else as 0x followed by their hex.')
    .action(async (db: string, options: ScanOptions) => {
      const range = rangeOf(options)
      const hex = options.hex === true
      const json = options.json === true
      await withDatabase(db, 'read', async (engine) => {
        const at = options.snapshot === undefined ? undefined : engine.openSnapshot(options.snapshot)
        let cursor: EngineCursor | undefined
        try {
          cursor = engine.iterate(range, at)
          await print(cursor, output, json, { hex, valueEncoding: options.valueEncoding })
        } finally {
          cursor?.close()
          at?.release()
        }
      })
    })
}
