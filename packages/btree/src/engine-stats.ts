import type { IoStats } from '@strata/storage'
import type { EngineStats } from './engine.js'
import type { Node } from './node.js'
import { cacheStats, type PageCache } from './page-cache.js'

/**
 * The fields of {@link EngineStats} every engine reports, with the space amplification worked out
 * from `fileBytes` and `liveBytes`, and `ownedBytes` from `fileBytes` and `sharedBytes`; an engine
 * adds its own fields after them.
 */
export function engineStats(
  engine: string,
  db: { readonly seq: number; readonly fs: { readonly io: IoStats }; readonly checkpoints: number; readonly cache: PageCache; readonly tree: { readonly root: Node } },
  sizes: { fileBytes: number; sharedBytes: number; liveBytes: number; pageSize: number; pinnedSnapshots: number },
): EngineStats {
  const { fileBytes, sharedBytes, liveBytes, pageSize, pinnedSnapshots } = sizes
  const spaceAmplification = liveBytes === 0 ? 0 : fileBytes / liveBytes
  const cache = cacheStats(db.cache, db.tree.root)
  return { engine, seq: db.seq, io: db.fs.io.report(), fileBytes, sharedBytes, ownedBytes: fileBytes - sharedBytes, liveBytes, spaceAmplification, pageSize, pinnedSnapshots, checkpoints: db.checkpoints, cache }
}
