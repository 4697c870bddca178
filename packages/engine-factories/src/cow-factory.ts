import { CowEngine, type StoreMode } from '@strata/cow-engine'
import type { EngineFactory } from '@strata/testkit'
import { TINY_CACHE_SIZE } from './row-factory.js'

/**
 * The CowEngine in one store mode as the tests and the reliability campaigns open it, in a module
 * of its own so a child process can import it from dist: `small` means 512-byte pages and
 * checkpoints every 2 to 16 KiB of WAL, so short runs reach splits, checkpoints, page reuse and
 * pre-images.
 */
function cowFactory(store: StoreMode, exportName: string, cacheSize?: number): EngineFactory {
  return {
    name: `CowEngine (${store}${cacheSize === undefined ? '' : ', a cache of a few pages'})`,
    open: (fs, options = {}) =>
      CowEngine.open({
        fs,
        store,
        ...(options.small ? { pageSize: 512, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 } } : {}),
        ...(options.createIfMissing === undefined ? {} : { createIfMissing: options.createIfMissing }),
        ...(options.errorIfExists === undefined ? {} : { errorIfExists: options.errorIfExists }),
        ...(cacheSize === undefined ? {} : { cacheSize }),
        ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize as number }),
      }),
    // From src (under vitest) and from dist alike, this names the built module.
    location: { module: new URL('../dist/cow-factory.js', import.meta.url).href, exportName },
  }
}

/** The CowEngine with a store file per snapshot (classic LVM). */
export const cowPerSnapshotFactory: EngineFactory = cowFactory('per-snapshot', 'cowPerSnapshotFactory')

/** The CowEngine with one shared pre-image store. */
export const cowSharedFactory: EngineFactory = cowFactory('shared', 'cowSharedFactory')

/** Both store modes, per-snapshot first. */
export const cowFactories: readonly EngineFactory[] = [cowPerSnapshotFactory, cowSharedFactory]

/** The CowEngine with one shared pre-image store and a page cache of a few pages ({@link TINY_CACHE_SIZE}). */
export const cowTinyCacheFactory: EngineFactory = cowFactory('shared', 'cowTinyCacheFactory', TINY_CACHE_SIZE)
