import { decideFault, type FaultableFileSystem, type FaultInjector, faultError } from './fault.js'
import type { BlockFile, FileSystem } from './file-system.js'
import type { IoStats, Purpose } from './io-stats.js'

class FaultyBlockFile implements BlockFile {
  constructor(
    private readonly inner: BlockFile,
    private readonly fs: FaultyFileSystem,
  ) {}

  get name(): string {
    return this.inner.name
  }

  size(): number {
    return this.inner.size()
  }

  links(): number {
    return this.inner.links()
  }

  read(offset: number, length: number, purpose: Purpose): Buffer {
    return this.inner.read(offset, length, purpose)
  }

  readInto(offset: number, target: Buffer, purpose: Purpose): number {
    return this.inner.readInto(offset, target, purpose)
  }

  write(offset: number, data: Uint8Array | readonly Uint8Array[], purpose: Purpose): void {
    const length = data instanceof Uint8Array ? data.length : data.reduce((sum, part) => sum + part.length, 0)
    const fault = decideFault(this.fs.faults, 'write', this.name, length)
    if (!fault) return this.inner.write(offset, data, purpose)
    // A short write: its first bytes reach the file, then it fails.
    if (fault.written > 0) {
      const bytes = data instanceof Uint8Array ? data : Buffer.concat(data)
      this.inner.write(offset, bytes.subarray(0, fault.written), purpose)
    }
    throw faultError(fault, 'write', `${this.fs.location}/${this.name}`)
  }

  truncate(size: number): void {
    const fault = decideFault(this.fs.faults, 'truncate', this.name, 0)
    if (fault) throw faultError(fault, 'truncate', `${this.fs.location}/${this.name}`)
    this.inner.truncate(size)
  }

  async sync(): Promise<void> {
    const fault = decideFault(this.fs.faults, 'sync', this.name, 0)
    if (fault) throw faultError(fault, 'sync', `${this.fs.location}/${this.name}`)
    await this.inner.sync()
  }

  close(): void {
    this.inner.close()
  }
}

/**
 * Another file system (a real folder, usually) whose writes, syncs and truncations fail where
 * `faults` says, as a full disk or failing hardware would: the other operations pass straight
 * through. The bytes of a short write reach the inner file system before the failure.
 */
export class FaultyFileSystem implements FaultableFileSystem {
  faults: FaultInjector | undefined

  constructor(
    readonly inner: FileSystem,
    faults?: FaultInjector,
  ) {
    this.faults = faults
  }

  get io(): IoStats {
    return this.inner.io
  }

  get location(): string {
    return this.inner.location
  }

  open(name: string, options?: { create?: boolean }): BlockFile {
    return new FaultyBlockFile(this.inner.open(name, options), this)
  }

  exists(name: string): boolean {
    return this.inner.exists(name)
  }

  list(): string[] {
    return this.inner.list()
  }

  remove(name: string): void {
    this.inner.remove(name)
  }

  async syncDirectory(): Promise<void> {
    const fault = decideFault(this.faults, 'sync', '.', 0)
    if (fault) throw faultError(fault, 'sync', this.location)
    await this.inner.syncDirectory()
  }

  lock(): void {
    this.inner.lock()
  }

  unlock(): void {
    this.inner.unlock()
  }
}
