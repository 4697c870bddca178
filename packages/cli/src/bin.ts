#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander'
import { runDemo } from './demo.js'

function positiveInteger(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer')
  return n
}

const program = new Command()
program.name('strata').description('Strata: an embedded, snapshotting key-value store for Node.js')

program
  .command('demo')
  .description('write orders, snapshot them, and run a report over the snapshot while writes go on')
  .option('--dir <folder>', 'the database folder', '.strata-demo')
  .option('--orders <n>', 'how many orders to write', positiveInteger, 100_000)
  .option('--writes <n>', 'how many writes land while the report runs', positiveInteger, 10_000)
  .action(async (options: { dir: string; orders: number; writes: number }) => {
    await runDemo({ dir: options.dir, orders: options.orders, concurrentWrites: options.writes })
  })

try {
  await program.parseAsync()
} catch (error) {
  const e = error as Error & { code?: string }
  console.error(`strata: ${e.message}${e.code ? ` (${e.code})` : ''}`)
  process.exitCode = 1
}
