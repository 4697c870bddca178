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
  /** Always checkpoint once the log since the last one holds this many bytes (bounds recovery time and log size). */
  maxLogBytes: number
}

/** The defaults of {@link LogCheckpointPolicy}; docs/architecture.md §Checkpoint policy gives the measurements behind them. */
export const DEFAULT_LOG_CHECKPOINT_POLICY: LogCheckpointPolicy = {
  minLogBytes: 8 * 1024 * 1024,
  ratio: 1,
  maxLogBytes: 256 * 1024 * 1024,
}

/** `policy` with every field checked: a field that is not a positive number is a RangeError. */
export function checkPositiveFields<P extends object>(policy: P): P {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`checkpoint.${name} must be a positive number`)
  }
  return policy
}
