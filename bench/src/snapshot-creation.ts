/**
 * Snapshot creation time against database size: the claim that taking a snapshot costs the same
 * at any size, for each variant, on databases that were loaded, closed and reopened cold.
 */
import type { Engine } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { MemoryFileSystem } from '@strata/storage'
import { median } from './harness.js'
import type { Variant } from './study-cell.js'
import { loadBatches } from './workloads.js'

/** Median time to take one snapshot of a database of `keys` entries. */
export interface CreationCost {
  variant: Variant
  keys: number
  ns: number
}

function open(variant: Variant, fs: MemoryFileSystem): Promise<Engine> {
  return variant === 'row' ? RowEngine.open({ fs }) : CowEngine.open({ fs, store: variant === 'cow-shared' ? 'shared' : 'per-snapshot' })
}

/**
 * Times snapshot creation for each variant at each size, in alternating rounds over the sizes, so
 * that machine noise falls on every size alike: median nanoseconds per snapshot over `rounds`
 * rounds of 200 snapshots (each round's snapshots released after it, untimed).
 */
export async function measureCreation(variants: readonly Variant[], sizes: readonly number[], rounds = 11, onLoaded: () => void = () => {}): Promise<CreationCost[]> {
  const out: CreationCost[] = []
  for (const variant of variants) {
    const engines: Engine[] = []
    for (const keys of sizes) {
      const fs = new MemoryFileSystem()
      const loading = await open(variant, fs)
      for (const batch of loadBatches(keys, 100)) await loading.write(batch, { sync: false })
      await loading.close()
      engines.push(await open(variant, fs))
      onLoaded()
    }
    const samples: number[][] = sizes.map(() => [])
    for (let round = 0; round < rounds; round++) {
      engines.forEach((engine, i) => {
        const start = process.hrtime.bigint()
        const taken = Array.from({ length: 200 }, () => engine.snapshot())
        samples[i]?.push(Number(process.hrtime.bigint() - start) / 200)
        for (const s of taken) s.release()
      })
    }
    sizes.forEach((keys, i) => out.push({ variant, keys, ns: median(samples[i] ?? []) }))
    for (const engine of engines) await engine.close()
  }
  return out
}
