import { InvalidArgumentError } from 'commander'

/** The integer `value` spells, if it spells one (`1000`, `1e6`); else undefined. */
function integer(value: string): number | undefined {
  const n = Number(value)
  return value.trim() !== '' && Number.isSafeInteger(n) ? n : undefined
}

/** Commander's parser for an option that takes a positive integer. */
export function positiveInteger(value: string): number {
  const n = integer(value)
  if (n === undefined || n <= 0) throw new InvalidArgumentError('must be a positive integer')
  return n
}

/** Commander's parser for an option that takes a non-negative integer. */
export function nonNegativeInteger(value: string): number {
  const n = integer(value)
  if (n === undefined || n < 0) throw new InvalidArgumentError('must be a non-negative integer')
  return n
}
