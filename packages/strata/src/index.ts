export type { EngineName, EngineOptions } from './engines.js'
export { msgpack } from './msgpack-encoding.js'
export { StrataLevel, type StrataLevelOptions } from './strata-level.js'
