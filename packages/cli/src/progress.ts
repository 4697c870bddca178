import type { RecoveryProgress } from '@strata/btree'
import { SingleBar } from 'cli-progress'

/** A progress bar on a terminal; on anything else (a pipe, CI) it prints nothing. */
export function progressBar(label: string, total: number, output: NodeJS.WriteStream = process.stderr): SingleBar {
  const bar = new SingleBar({
    format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: false,
    stream: output,
    noTTYOutput: false,
  })
  bar.start(total, 0)
  return bar
}

/**
 * Shows an open's replay of the log after a crash as a progress bar in MiB of log (docs/durability.md
 * §Restart after a crash): the bar starts at the first report and ends at the last.
 */
export function recoveryBar(output: NodeJS.WriteStream = process.stderr): (progress: RecoveryProgress) => void {
  let bar: SingleBar | undefined
  const mib = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10
  return (progress) => {
    bar ??= progressBar('replaying log (MiB)', mib(progress.logBytes), output)
    bar.update(progress.done ? mib(progress.logBytes) : mib(progress.replayedBytes))
    if (progress.done) bar.stop()
  }
}
