export { cowFactories, cowPerSnapshotFactory, cowSharedFactory, cowTinyCacheFactory } from './cow-factory.js'
export { rowFactory, rowTinyCacheFactory, TINY_CACHE_SIZE } from './row-factory.js'
