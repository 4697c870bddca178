import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { describeFailure, EXIT_STATUSES, ExitCode, type Failure } from './cli-error.js'
import { addBenchCommand, BENCH_PACKAGE, type BenchSuite, findBenchSuite } from './commands/bench.js'
import { addCheckCommand } from './commands/check.js'
import { addCompactCommand } from './commands/compact.js'
import { addDemoCommand } from './commands/demo.js'
import { addGetCommand } from './commands/get.js'
import { addInfoCommand } from './commands/info.js'
import { addScanCommand } from './commands/scan.js'
import { addSnapshotCommand } from './commands/snapshot.js'
import { Output, type Streams } from './output.js'

/** The commands, in the order `strata --help` lists them; `bench` comes last. */
const COMMANDS = [addInfoCommand, addCheckCommand, addCompactCommand, addGetCommand, addScanCommand, addSnapshotCommand, addDemoCommand]

const EXIT_STATUS_HELP = `\nExit status:\n${EXIT_STATUSES.map(({ status, code, meaning }) => `  ${String(status).padEnd(4)}${meaning}${code ? ` (${code})` : ''}\n`).join('')}`

/** This package's version, from its package.json (one folder above both src/ and dist/). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

/** The `strata` program, writing to `output`; commander reports instead of exiting, so {@link runCli} decides the status. */
function buildProgram(streams: Streams, output: Output, bench: BenchSuite): Command {
  const program = new Command('strata')
    .description('Strata: an embedded, snapshotting key-value store for Node.js')
    .version(packageVersion(), '-V, --version', 'print the version of the strata command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      // runCli reports usage errors itself, with their code.
      outputError: () => undefined,
    })
    .addHelpText('after', EXIT_STATUS_HELP)
  for (const add of COMMANDS) add(program, output)
  addBenchCommand(program, output, bench)
  return program
}

/** Reports `failure` on standard error: `strata: message (CODE)`, or as JSON when the command was asked for JSON. */
function report(streams: Streams, failure: Failure, json: boolean, command: string | undefined): void {
  if (json) {
    streams.stderr.write(`${JSON.stringify({ error: failure })}\n`)
    return
  }
  streams.stderr.write(`strata: ${failure.message} (${failure.code})\n`)
  if (failure.exitCode === ExitCode.USAGE) streams.stderr.write(`run 'strata ${command ? `${command} ` : ''}--help' for usage\n`)
}

/** Where {@link runCli} finds what is not part of the command itself. */
export interface CliOptions {
  /** The package `strata bench` loads the benchmark suite from; default `@strata/bench`, present only inside the Strata repository. */
  benchPackage?: string
}

/**
 * Runs the `strata` command with `args` (the arguments after the program's name) and resolves to
 * its exit status (see {@link ExitCode}); nothing calls `process.exit`, so output is never cut short.
 */
export async function runCli(args: readonly string[], streams: Streams = { stdout: process.stdout, stderr: process.stderr }, options: CliOptions = {}): Promise<number> {
  const output = new Output(streams)
  const program = buildProgram(streams, output, await findBenchSuite(options.benchPackage ?? BENCH_PACKAGE))
  try {
    await program.parseAsync([...args], { from: 'user' })
    return ExitCode.OK
  } catch (error) {
    // --help and --version end by throwing with status 0; help shown for a missing command, 1.
    if (error instanceof CommanderError && error.exitCode === 0) return ExitCode.OK
    if (error instanceof CommanderError && error.code === 'commander.help') return ExitCode.USAGE
    const failure = describeFailure(error)
    const command = program.commands.find((c) => c.name() === args[0])?.name()
    report(streams, failure, args.includes('--json'), command)
    return failure.exitCode
  }
}
