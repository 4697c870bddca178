import { checkTree, isRef, leafValue, NO_ADDRESS, type Node, type TreeShape } from '@strata/btree'
import type { NamedRecord } from './catalogue.js'
import type { Database } from './database.js'
import { isWalValue, lsnOf } from './wal-values.js'

/**
 * Walks a COW database and returns its broken invariants (empty when sound): the head tree
 * (checkTree reads and verifies every page and value it uses), the live data bytes, the page
 * accounting, the large values still in the WAL, and the pre-image store against the live
 * snapshots.
 */
export function checkDatabase(db: Database): string[] {
  const { problems, shape } = checkTree(db, db.tree.root)
  if (db.tree.dataBytes !== shape.liveBytes) problems.push(`live data bytes recorded as ${db.tree.dataBytes} but entries hold ${shape.liveBytes}`)
  problems.push(...checkPages(db, shape))
  problems.push(...checkWalValues(db, db.tree.root))
  problems.push(...db.store.check(db.snapshots.all()))
  problems.push(...checkNamed(db))
  if (db.seq < db.meta.seq) problems.push(`the head is at batch ${db.seq}, behind the durable checkpoint's ${db.meta.seq}`)
  return problems
}

/**
 * Every page from the first data page to the end of the file must be exactly one of: a clean
 * node's page, a dirty node's home (overwritten at the next checkpoint), a page of an overflow
 * chain the head references, a page of the free-list chain, or free (allocatable, or freed since
 * the last checkpoint). A page claimed twice, both used and free, outside the file, or by nothing
 * at all, is a broken invariant.
 */
function checkPages(db: Database, shape: TreeShape): string[] {
  const problems: string[] = []
  const { first, pageCount } = db.table
  const owners = new Map<number, string>()
  const claim = (page: number, what: string): void => {
    if (page < first || page >= pageCount) problems.push(`${what} is on page ${page}, outside the file's pages ${first} to ${pageCount - 1}`)
    const other = owners.get(page)
    if (other !== undefined) problems.push(`page ${page} is both ${other} and ${what}`)
    else owners.set(page, what)
  }
  for (const [address] of shape.pages) claim(address, 'a tree page')
  for (const home of dirtyHomes(db.tree.root)) claim(home, "a dirty node's home")
  for (const [address, , length] of shape.values) {
    if (isWalValue(address)) continue
    try {
      for (const page of db.chainPages({ address, length })) claim(page, `a page of the value chain at ${address}`)
    } catch (error) {
      problems.push(`value chain at ${address}: ${(error as Error).message}`)
    }
  }
  for (const page of db.table.chain) claim(page, 'a free-list page')
  for (const page of db.catalogue.pages()) claim(page, 'a snapshot catalogue page')
  for (const page of db.table.available) claim(page, 'free')
  for (const page of db.table.pending) claim(page, 'freed since the last checkpoint')
  for (let page = first; page < pageCount; page++) if (!owners.has(page)) problems.push(`page ${page} is neither used nor free`)
  return problems
}

/**
 * Every named snapshot must read whole (its tree through its own source: copies, else pages.db),
 * hold its recorded data bytes, and hold in its store exactly the copies its copy list records.
 */
function checkNamed(db: Database): string[] {
  const problems: string[] = []
  const named = db.snapshots.named()
  if (named.length !== db.catalogue.records.size) problems.push(`the catalogue holds ${db.catalogue.records.size} snapshots, ${named.length} are live`)
  for (const snapshot of named) {
    const record = snapshot.named as NamedRecord
    const where = `snapshot ${JSON.stringify(record.name)}`
    const { problems: broken, shape } = checkTree(snapshot.source, snapshot.root)
    for (const problem of broken) problems.push(`${where}: ${problem}`)
    if (broken.length === 0 && shape.liveBytes !== record.dataBytes) problems.push(`${where}: data bytes recorded as ${record.dataBytes} but entries hold ${shape.liveBytes}`)
    if (snapshot.root.address !== record.root) problems.push(`${where}: root is page ${snapshot.root.address}, the catalogue says ${record.root}`)
    let listed = 0
    for (const entry of record.list.entries()) {
      listed++
      if (!db.store.has(snapshot, entry.page)) problems.push(`${where}: its copy of page ${entry.page} is listed but not in its store`)
    }
    const held = db.store.bytesOf(snapshot) / db.pageSize
    if (held !== listed) problems.push(`${where}: its store holds ${held} copies, its copy list ${listed}`)
  }
  return problems
}

/** The home pages of the head's dirty nodes: pages they will overwrite at the next checkpoint. */
function dirtyHomes(node: Node): number[] {
  if (node.address !== NO_ADDRESS) return []
  const homes = node.home !== NO_ADDRESS ? [node.home as number] : []
  if (!node.leaf) for (const child of node.children) if (typeof child !== 'number') homes.push(...dirtyHomes(child))
  return homes
}

/**
 * A value the head keeps in the WAL must sit in a dirty leaf (the next checkpoint moves it out),
 * in the WAL's current generation, and be known to the engine as held by the head.
 */
function checkWalValues(db: Database, node: Node): string[] {
  const problems: string[] = []
  const visit = (n: Node): void => {
    if (!n.leaf) {
      for (const child of n.children) if (typeof child !== 'number') visit(child)
      return
    }
    for (let i = 0; i < n.off.length; i++) {
      const value = leafValue(n, i)
      if (!isRef(value) || !isWalValue(value.address)) continue
      const lsn = lsnOf(value.address)
      if (n.address !== NO_ADDRESS) problems.push(`a clean leaf refers to the WAL value at LSN ${lsn}`)
      if (lsn < db.wal.base || lsn >= db.wal.end) problems.push(`the head refers to LSN ${lsn}, outside the WAL's ${db.wal.base} to ${db.wal.end}`)
      if (!db.values.holds(lsn)) problems.push(`the head refers to the WAL value at LSN ${lsn}, which is not logged as held`)
    }
  }
  visit(node)
  return problems
}
