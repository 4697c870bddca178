import { RowEngine } from '@strata/row-engine'
import type { EngineFactory } from '@strata/testkit'

/** A page cache of a few pages: with `small`'s 512-byte pages about six, so pages are evicted all the time. */
export const TINY_CACHE_SIZE = 8 * 1024

/**
 * The RowEngine as the reliability campaigns open it (the factory of row-engine.test.ts, in a
 * module of its own so a child process can import it from dist): `small` means 512-byte pages,
 * 16 KiB segments and checkpoints every 2 to 16 KiB of log, written 4 leaves a turn, so short runs
 * reach every mechanism: a crash or a kill can fall between the turns of a checkpoint.
 */
function rowFactoryWith(name: string, exportName: string, cacheSize?: number): EngineFactory {
  return {
    name,
    open: (fs, options = {}) =>
      RowEngine.open({
        fs,
        ...(options.small ? { pageSize: 512, segmentBytes: 16 * 1024, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024, slicePages: 4 } } : {}),
        ...(options.createIfMissing === undefined ? {} : { createIfMissing: options.createIfMissing }),
        ...(options.errorIfExists === undefined ? {} : { errorIfExists: options.errorIfExists }),
        ...(cacheSize === undefined ? {} : { cacheSize }),
        ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize as number }),
      }),
    // From src (under vitest) and from dist alike, this names the built module.
    location: { module: new URL('../dist/row-factory.js', import.meta.url).href, exportName },
  }
}

/** The RowEngine with its default page cache. */
export const rowFactory: EngineFactory = rowFactoryWith('RowEngine', 'rowFactory')

/** The RowEngine with a page cache of a few pages ({@link TINY_CACHE_SIZE}). */
export const rowTinyCacheFactory: EngineFactory = rowFactoryWith('RowEngine (a cache of a few pages)', 'rowTinyCacheFactory', TINY_CACHE_SIZE)
