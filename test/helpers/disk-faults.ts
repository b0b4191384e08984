/**
 * A disk that refuses writes, for the evidence writers' tests: one node:fs function replaced (and
 * its ESM binding, which the writers import by name, kept in step) until `restore` or the end of
 * the test. The files are real; only the failures are injected, as the kernel reports them.
 */
import fs from 'node:fs'
import {syncBuiltinESMExports} from 'node:module'

type Hooks = {after: (fn: () => void) => void}

export const enospc = (call: string): Error => Object.assign(new Error(`ENOSPC: no space left on device, ${call}`), {code: 'ENOSPC'})

/** Replaces `fs[name]` with `fake(real)`; returns `restore`. */
export function inject<K extends 'writeSync' | 'openSync' | 'renameSync' | 'fsyncSync'>(t: Hooks, name: K, fake: (real: (typeof fs)[K]) => (typeof fs)[K]): () => void {
  const real = fs[name]
  fs[name] = fake(real)
  syncBuiltinESMExports()
  const restore = (): void => {
    fs[name] = real
    syncBuiltinESMExports()
  }
  t.after(restore)
  return restore
}

/** The disk fills in the middle of the next write: half of it lands, every write after fails with ENOSPC. */
export function fillDisk(t: Hooks): () => void {
  let calls = 0
  return inject(t, 'writeSync', (real) => ((fd: number, data: string | NodeJS.ArrayBufferView) => {
    if (calls++ > 0) throw enospc('write')
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    return real(fd, bytes, 0, bytes.length >> 1)
  }) as typeof fs.writeSync)
}

/** Every write fails with ENOSPC. */
export function refuseWrites(t: Hooks): () => void {
  return inject(t, 'writeSync', () => (() => {
    throw enospc('write')
  }) as typeof fs.writeSync)
}

/** Every open fails with ENOSPC (a file that cannot be created). */
export function refuseOpens(t: Hooks): () => void {
  return inject(t, 'openSync', () => (() => {
    throw enospc('open')
  }) as typeof fs.openSync)
}
