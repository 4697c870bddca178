import type { CrashMode, CrashState } from '@strata/storage'

/** How many crash states a campaign recovered, by mode and by what makes them unkind. */
export interface CrashTally {
  states: Record<CrashMode, number>
  /** States taken while a sync (of a file or the directory) had begun and not completed. */
  syncsInFlight: number
  /** States in which a later unsynced write survived an earlier lost or torn one. */
  reordered: number
  /** States that lost a file creation or removal the run had made. */
  lostEntries: number
}

/** An empty tally. */
export function emptyTally(): CrashTally {
  return { states: { drop: 0, torn: 0, hole: 0, unlinked: 0, reorder: 0 }, syncsInFlight: 0, reordered: 0, lostEntries: 0 }
}

/** Counts one recovered crash state. */
export function tallyState(tally: CrashTally, state: CrashState): void {
  tally.states[state.mode]++
  if (state.features.syncsInFlight > 0) tally.syncsInFlight++
  if (state.features.reordered) tally.reordered++
  if (state.features.lostEntries > 0) tally.lostEntries++
}

/** The tally in one line, for a campaign's report. */
export function describeTally(tally: CrashTally): string {
  const s = tally.states
  const total = Object.values(s).reduce((a, b) => a + b, 0)
  return `${total} crash states (${s.drop} dropped, ${s.torn} torn, ${s.hole} with a hole, ${s.unlinked} unlinked, ${s.reorder} reordered mixes): ${tally.syncsInFlight} with syncs in flight, ${tally.reordered} with reordered writes, ${tally.lostEntries} with lost directory entries`
}

/**
 * Fails unless a campaign checked at least `least` states and its states were unkind in every way
 * the model offers: taken with syncs in flight, with writes reordered, and with directory entries lost.
 */
export function expectUnkind(tally: CrashTally, least: number): void {
  const total = Object.values(tally.states).reduce((a, b) => a + b, 0)
  const problems: string[] = []
  if (total < least) problems.push(`${total} states checked, fewer than ${least}`)
  if (tally.syncsInFlight === 0) problems.push('no state had a sync in flight')
  if (tally.reordered === 0) problems.push('no state had reordered writes')
  if (tally.lostEntries === 0) problems.push('no state lost a directory entry')
  if (problems.length > 0) throw new Error(`the crash campaign was kinder than a real disk: ${problems.join('; ')} (${describeTally(tally)})`)
}
