import type { Engine } from '@strata/btree'
import type { FileSystem } from '@strata/storage'

/** How a test opens an engine; the suites in this package take one, so every engine runs them. */
export interface EngineFactory {
  readonly name: string
  /**
   * Opens an engine in `fs`. `small` tunes pages, segments and checkpoints small, so that a short
   * test reaches splits, checkpoints, segment changes and reclamation. `cacheSize` is the page
   * cache's budget, passed to the engine as given (unchecked, so a test can give a wrong one).
   */
  open(fs: FileSystem, options?: { small?: boolean; createIfMissing?: boolean; errorIfExists?: boolean; cacheSize?: unknown }): Promise<Engine>
  /**
   * Where another process finds this same factory: a built ES module (a path or `file:` URL) and
   * the name it exports the factory under. Campaigns that kill a real process need it.
   */
  readonly location?: { readonly module: string; readonly exportName: string }
}

/** Every entry of an engine (or a snapshot of it), in order. */
export function readAll(engine: Engine, at?: Parameters<Engine['iterate']>[1]): [Buffer, Buffer][] {
  const cursor = engine.iterate({}, at)
  const out: [Buffer, Buffer][] = []
  try {
    for (let e = cursor.next(); e; e = cursor.next()) out.push([Buffer.from(e[0]), Buffer.from(e[1])])
  } finally {
    cursor.close()
  }
  return out
}

