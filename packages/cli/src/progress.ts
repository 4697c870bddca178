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
