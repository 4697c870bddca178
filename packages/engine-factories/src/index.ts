export { cowFactories, cowPerSnapshotFactory, cowSharedFactory } from './cow-factory.js'
export { rowFactory } from './row-factory.js'
