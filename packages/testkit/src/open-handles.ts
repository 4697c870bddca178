import { readdirSync, readlinkSync, realpathSync } from 'node:fs'
import { sep } from 'node:path'

/** Where a process's open file descriptors are listed (Linux). */
const FD_FOLDER = '/proc/self/fd'

/** How many file descriptors this process has open (entries of /proc/self/fd, Linux only). */
export function openDescriptorCount(): number {
  return readdirSync(FD_FOLDER).length
}

/**
 * The files under `folder` this process holds open (a file removed while open shows as
 * `… (deleted)`), from /proc/self/fd: what a database that leaks file handles leaves behind.
 */
export function openHandlesUnder(folder: string): string[] {
  const root = realpathSync(folder)
  const held: string[] = []
  for (const fd of readdirSync(FD_FOLDER)) {
    let target: string
    try {
      target = readlinkSync(`${FD_FOLDER}/${fd}`)
    } catch {
      continue // closed meanwhile (the descriptor readdir itself used, for one)
    }
    if (target === root || target.startsWith(root + sep)) held.push(target)
  }
  return held.sort()
}
