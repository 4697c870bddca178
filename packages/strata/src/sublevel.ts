import { AbstractSublevel, type AbstractSublevelOptions } from 'abstract-level'
import type { Encoded } from './formats.js'
import { registerNamedEncodings, withNamedEncodings } from './msgpack-encoding.js'

/**
 * A sublevel of a StrataLevel (`db.sublevel(name, options)`). It is abstract-level's sublevel,
 * which prefixes keys and forwards every operation to its parent, and it knows the encoding
 * names StrataLevel adds (`'msgpack'`), for itself and for the sublevels made from it.
 */
export class StrataSublevel<TDatabase, KDefault = string, VDefault = string> extends AbstractSublevel<TDatabase, Encoded, KDefault, VDefault> {
  constructor(db: TDatabase, name: string, options?: AbstractSublevelOptions<KDefault, VDefault>) {
    super(db, name, withNamedEncodings(options))
    registerNamedEncodings(this)
  }

  /** Called by `sublevel()`: a nested sublevel is a StrataSublevel too. */
  _sublevel(name: string, options: AbstractSublevelOptions<unknown, unknown>): StrataSublevel<this, unknown, unknown> {
    return new StrataSublevel(this, name, options)
  }
}

