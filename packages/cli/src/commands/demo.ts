import type { Command } from 'commander'
import { runDemo } from '../demo.js'
import { positiveInteger } from '../option-parsers.js'
import type { Output } from '../output.js'

/** Adds `strata demo`: orders, a snapshot, a report over it while writes land, and what it cost. */
export function addDemoCommand(program: Command, output: Output): void {
  program
    .command('demo')
    .description('write orders, snapshot them, and run a report over the snapshot while writes go on')
    .option('--dir <folder>', 'the database folder', '.strata-demo')
    .option('--orders <n>', 'how many orders to write', positiveInteger, 100_000)
    .option('--writes <n>', 'how many writes land while the report runs', positiveInteger, 10_000)
    .action(async (options: { dir: string; orders: number; writes: number }) => {
      await runDemo({ dir: options.dir, orders: options.orders, concurrentWrites: options.writes, out: (line) => void output.write(`${line}\n`) })
    })
}
