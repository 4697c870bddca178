import { Cursor, type Range } from './cursor.js'
import type { EngineCursor } from './engine.js'
import type { Node } from './node.js'
import type { PageSource } from './page-source.js'

/** What an engine's cursor needs of its engine: a check that the engine is open, and the release of what it pins. */
export interface CursorHolder {
  /** Throws unless the engine is open (a closed engine's cursor reads no more). */
  assertOpen(): void
  /** Releases the state the cursor reads; called once, when it closes (or fails to open). */
  release(): void
}

/**
 * A cursor over the tree at `root` as an engine hands it out (Engine.iterate): it reads only while
 * the engine is open, reads nothing once closed, and releases what it pins on its first close.
 * If the cursor cannot be positioned (a page fails to read), it releases at once and throws.
 */
export function engineCursor(source: PageSource, root: Node, range: Range, holder: CursorHolder): EngineCursor {
  let cursor: Cursor
  try {
    cursor = new Cursor(source, root, range)
  } catch (error) {
    holder.release()
    throw error
  }
  let closed = false
  return {
    next: () => {
      if (closed) return undefined
      holder.assertOpen()
      return cursor.next()
    },
    nextCopies: (size) => {
      if (closed) return []
      holder.assertOpen()
      return cursor.copies(size)
    },
    seek: (target) => {
      if (closed) return
      holder.assertOpen()
      cursor.seek(target)
    },
    close: () => {
      if (closed) return
      closed = true
      holder.release()
    },
  }
}
