/**
 * When an engine checkpoints: the part of the policy both engines share, so that a ROW and a COW
 * database given the same options checkpoint alike (docs/architecture.md §Checkpoint policy, §COW
 * checkpoint policy). An engine may add fields of its own.
 */
export interface LogCheckpointPolicy {
  /** Never checkpoint before the log (or WAL) holds this many bytes since the last checkpoint. */
  minLogBytes: number
  /** Checkpoint once the log since the last one holds `ratio` × the bytes of the pages it dirtied. */
  ratio: number
  /** Always checkpoint once the log since the last one holds this many bytes (bounds the log's size). */
  maxLogBytes: number
  /**
   * Always checkpoint once applying the log since the last one, after a crash, would take about
   * this many milliseconds ({@link replayEstimateMs} of the log alone): bounds the part of a restart
   * that grows with the log, at the cost of more page writes. Reading back the pages the log
   * dirtied comes on top, up to the whole tree, and a checkpoint does not shorten it for long
   * (docs/architecture.md §Replay).
   */
  maxReplayMs: number
}

/** The defaults of {@link LogCheckpointPolicy}; docs/architecture.md §Checkpoint policy gives the measurements behind them. */
export const DEFAULT_LOG_CHECKPOINT_POLICY: LogCheckpointPolicy = {
  minLogBytes: 8 * 1024 * 1024,
  ratio: 1,
  maxLogBytes: 256 * 1024 * 1024,
  maxReplayMs: 2000,
}

/**
 * How fast a replay goes on the machine the defaults were measured on (docs/architecture.md
 * §Replay): milliseconds per MiB of log replayed, and per MiB of pages the log dirtied, which the
 * replay reads back and changes.
 */
export const REPLAY_SPEED = { msPerLogMiB: 15, msPerPageMiB: 16.5 } as const

/**
 * The milliseconds a replay of `logBytes` of log that dirtied `dirtiedBytes` of pages would take,
 * at {@link REPLAY_SPEED} × `scale` (an engine's measure of its own machine against that one).
 */
export function replayEstimateMs(logBytes: number, dirtiedBytes: number, scale = 1): number {
  return (scale * (logBytes * REPLAY_SPEED.msPerLogMiB + dirtiedBytes * REPLAY_SPEED.msPerPageMiB)) / (1024 * 1024)
}

/** A replay shorter than this tells too little about the machine's speed to rescale the estimate by it. */
const CALIBRATION_MIN_LOG_BYTES = 8 * 1024 * 1024

/**
 * The scale to estimate replays with after one of `logBytes` and `dirtiedBytes` took `ms`: the
 * replay's own measure against {@link REPLAY_SPEED}, kept within a factor of 4 either way (a replay
 * on a busy machine should not make the next restart target meaningless), or `scale` unchanged
 * when the replay was too short to tell, or when reading back pages was most of its estimate: the
 * scale rescales the policy's bound on the log's share, and a replay of pages from a cold cache
 * (after a reboot) says little about that.
 */
export function calibrateReplay(scale: number, logBytes: number, dirtiedBytes: number, ms: number): number {
  if (logBytes < CALIBRATION_MIN_LOG_BYTES || replayEstimateMs(0, dirtiedBytes) > replayEstimateMs(logBytes, 0)) return scale
  return Math.min(4, Math.max(0.25, ms / replayEstimateMs(logBytes, dirtiedBytes)))
}

/** `policy` with every field checked: a field that is not a positive number is a RangeError. */
export function checkPositiveFields<P extends object>(policy: P): P {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`checkpoint.${name} must be a positive number`)
  }
  return policy
}
