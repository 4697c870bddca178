import { SingleBar } from 'cli-progress'

/** A message a benchmark part sends to the suite that forked it. */
export interface ProgressMessage {
  type: 'progress'
  /** What the part is doing now. */
  label: string
  done: number
  total: number
}

/** Whether `value` is a {@link ProgressMessage}. */
export function isProgressMessage(value: unknown): value is ProgressMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'progress'
}

/** How a benchmark part reports how far it has got. */
export interface Progress {
  /** Starts a new stage of `total` steps. */
  stage(label: string, total: number): void
  /** One more step (or `steps`) of the current stage done. */
  tick(steps?: number): void
  stop(): void
}

/**
 * Progress for a benchmark part: sent to the suite when the suite forked this process, drawn as a
 * bar when standard error is a terminal, and nothing otherwise (pipes and CI logs stay clean).
 */
export function partProgress(): Progress {
  let label = ''
  let done = 0
  let total = 0
  const send = process.send?.bind(process)
  if (send) {
    return {
      stage(l, t) {
        ;[label, done, total] = [l, 0, t]
        send({ type: 'progress', label, done, total } satisfies ProgressMessage)
      },
      tick(steps = 1) {
        done += steps
        send({ type: 'progress', label, done, total } satisfies ProgressMessage)
      },
      stop() {},
    }
  }
  if (!process.stderr.isTTY) return { stage() {}, tick() {}, stop() {} }
  let bar: SingleBar | undefined
  return {
    stage(l, t) {
      bar?.stop()
      bar = progressBar(l, t)
    },
    tick(steps = 1) {
      bar?.increment(steps)
    },
    stop() {
      bar?.stop()
      bar = undefined
    },
  }
}

/** A progress bar on standard error, labelled and with an estimate of the time left. */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): SingleBar {
  const bar = new SingleBar({
    format: `${label.slice(0, 34).padEnd(34)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    barsize: 24,
    hideCursor: true,
    clearOnComplete: false,
    stream,
    etaBuffer: 50,
  })
  bar.start(total, 0)
  return bar
}
