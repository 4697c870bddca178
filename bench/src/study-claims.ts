/**
 * The literature's claims about snapshot techniques, each checked against the study's figures with
 * a stated criterion, so that the docs say "reproduced" only when the measurement does.
 */
import type { CellResult, Variant } from './study-cell.js'
import { SNAPSHOT_SWEEP_BATCH } from './study-plan.js'
import type { WorkloadName } from './workloads.js'

/** A straight line fitted to points by least squares, and how well it fits. */
export interface LinearFit {
  slope: number
  intercept: number
  /** The coefficient of determination: 1 is a perfect line. */
  r2: number
}

/** Fits y = slope · x + intercept to `points` by least squares. */
export function fitLine(points: readonly (readonly [number, number])[]): LinearFit {
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  }
  const slope = sxx === 0 ? 0 : sxy / sxx
  const intercept = my - slope * mx
  return { slope, intercept, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) }
}

/** The write amplification of one variant against k, for one workload and value size, at the snapshot sweep's batch size. */
export function waByK(cells: readonly CellResult[], variant: Variant, workload: WorkloadName, valueBytes: number): [number, number][] {
  return cells
    .filter((c) => c.variant === variant && c.workload === workload && c.valueBytes === valueBytes && c.batch === SNAPSHOT_SWEEP_BATCH)
    .sort((a, b) => a.snapshots - b.snapshots)
    .map((c) => [c.snapshots, c.writeAmplification])
}

/** How one workload and value size bear on the claims. */
export interface ClaimFigures {
  workload: WorkloadName
  valueBytes: number
  /** COW per-snapshot: write amplification against k, fitted over k ≥ 1. */
  perSnapshot: LinearFit
  /** COW per-snapshot: the added write amplification of each snapshot, as a share of k = 0's. */
  perSnapshotGrowth: number
  /** COW shared: the largest change from k = 1 to any larger k, as a share of k = 1's. */
  sharedDrift: number
  /** COW shared: the added write amplification of the first snapshot, as a share of k = 0's. */
  sharedFirstSnapshot: number
  /** ROW: the largest change from k = 0 to any k, as a share of k = 0's. */
  rowDrift: number
}

/** The figures behind the claims for every workload and value size the study ran. */
export function claimFigures(cells: readonly CellResult[]): ClaimFigures[] {
  const out: ClaimFigures[] = []
  const combos = new Set(cells.map((c) => `${c.workload}/${c.valueBytes}`))
  for (const combo of combos) {
    const [workload, value] = combo.split('/') as [WorkloadName, string]
    const valueBytes = Number(value)
    const per = waByK(cells, 'cow-per-snapshot', workload, valueBytes)
    const shared = waByK(cells, 'cow-shared', workload, valueBytes)
    const row = waByK(cells, 'row', workload, valueBytes)
    if (per.length < 3 || shared.length < 2 || row.length < 2) continue
    const at = (series: [number, number][], k: number) => series.find(([x]) => x === k)?.[1] ?? Number.NaN
    const fit = fitLine(per.filter(([k]) => k >= 1))
    const shared1 = at(shared, 1)
    const row0 = at(row, 0)
    out.push({
      workload,
      valueBytes,
      perSnapshot: fit,
      perSnapshotGrowth: fit.slope / at(per, 0),
      sharedDrift: Math.max(...shared.filter(([k]) => k >= 1).map(([, y]) => Math.abs(y - shared1) / shared1)),
      sharedFirstSnapshot: (shared1 - at(shared, 0)) / at(shared, 0),
      rowDrift: Math.max(...row.map(([, y]) => Math.abs(y - row0) / row0)),
    })
  }
  return out
}

/** The criteria: a line is "linear" at R² ≥ 0.98; "flat" means within 2 % across k. */
export const CRITERIA = { linearR2: 0.98, flat: 0.02, growing: 0.01 } as const

/** Whether per-snapshot cost grows linearly with k (a slope of at least 1 % of k = 0's cost per snapshot, R² ≥ 0.98). */
export function growsLinearly(f: ClaimFigures): boolean {
  return f.perSnapshotGrowth >= CRITERIA.growing && f.perSnapshot.r2 >= CRITERIA.linearR2
}

/** Whether the shared store's cost stays flat from the first snapshot on. */
export function sharedStaysFlat(f: ClaimFigures): boolean {
  return f.sharedDrift <= CRITERIA.flat
}

/** Whether ROW's cost does not depend on k. */
export function rowIgnoresK(f: ClaimFigures): boolean {
  return f.rowDrift <= CRITERIA.flat
}
