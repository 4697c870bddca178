import type { Command } from 'commander'
import { parseBytes, showBytes } from '../bytes-text.js'
import { CliError, CliErrorCode } from '../cli-error.js'
import { withDatabase } from '../database.js'
import { entryJson, showValue, type ValueEncoding, valueEncodingOption } from '../entry-json.js'
import type { Output } from '../output.js'

/** Options of `strata get`. */
interface GetOptions {
  hex?: true
  json?: true
  snapshot?: string
  valueEncoding?: ValueEncoding
}

/** Adds `strata get <db> <key>`: prints the value of one key, read-only; STRATA_KEY_NOT_FOUND if there is none. */
export function addGetCommand(program: Command, output: Output): void {
  program
    .command('get')
    .description('print the value of one key (opens the database read-only); exits with status 9 if the key is absent')
    .argument('<db>', 'the database folder')
    .argument('<key>', 'the key, as UTF-8 text (hex with --hex)')
    .option('--hex', 'take the key in hex and print the value in hex')
    .addOption(valueEncodingOption())
    .option('--json', 'print JSON for scripts: {key, keyEncoding, value, valueEncoding}')
    .option('--snapshot <name>', 'read at the named snapshot instead of the current state')
    .addHelpText('after', '\nThe value is printed as UTF-8 text when it is printable, else as 0x followed by its hex;\nwith --value-encoding json or msgpack, as one line of JSON.')
    .action(async (db: string, keyText: string, options: GetOptions) => {
      const hex = options.hex === true
      const format = { hex, valueEncoding: options.valueEncoding }
      const key = parseBytes(keyText, hex, 'key')
      const value = await withDatabase(db, 'read', async (engine) => {
        const at = options.snapshot === undefined ? undefined : engine.openSnapshot(options.snapshot)
        try {
          // The engine owns what it returns, and the engine closes before the value is printed.
          const found = engine.get(key, at)
          return found === undefined ? undefined : Buffer.from(found)
        } finally {
          at?.release()
        }
      })
      if (value === undefined) throw new CliError(CliErrorCode.KEY_NOT_FOUND, `no entry with key ${showBytes(key, hex)}`)
      await (options.json ? output.json(entryJson(key, value, format)) : output.write(`${showValue(value, format)}\n`))
    })
}
