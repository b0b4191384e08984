/**
 * The body of a git smart-HTTP push (`POST …/git-receive-pack`, content type
 * `application/x-git-receive-pack-request`): pkt-line ref update commands, a flush, optional
 * push options and a flush, then the packfile. The commands name the refs the push updates; the
 * pack's objects are inflated where they can be read — whole objects, and deltas whose base is in
 * the same pack (an OFS_DELTA, or a REF_DELTA naming an object of the pack). A thin pack's delta
 * against an object only the server has cannot be rebuilt: its literal inserts are still returned
 * (they are the new bytes) and it is counted as unresolved.
 */
import {createHash} from 'node:crypto'
import {inflateSync} from 'node:zlib'

export interface RefUpdate {
  readonly oldId: string
  readonly newId: string
  readonly ref: string
}

export interface ReceivePack {
  readonly updates: readonly RefUpdate[]
  /** Blob contents, commit and tag messages (and literal inserts of unresolved deltas), in pack order. */
  readonly blobs: readonly Buffer[]
  readonly objects: number
  /** Deltas whose base is not in the pack (only their inserts were read). */
  readonly unresolved: number
  /** Why the pack could not be read to its end ('' = read whole, or no pack). */
  readonly error: string
}

const ZERO_ID = /^0{40}$/
const TYPES = ['', 'commit', 'tree', 'blob', 'tag', '', 'ofs_delta', 'ref_delta'] as const
/** Objects inflated from one push at most (a bound on work per request). */
const MAX_OBJECTS = 100_000

export function isZeroId(id: string): boolean {
  return ZERO_ID.test(id)
}

export function parseReceivePack(body: Buffer): ReceivePack {
  const updates: RefUpdate[] = []
  let pos = 0
  let flushes = 0
  let pushOptions = false
  while (pos + 4 <= body.length) {
    const lenHex = body.toString('latin1', pos, pos + 4)
    if (!/^[0-9a-f]{4}$/i.test(lenHex)) return {updates, blobs: [], objects: 0, unresolved: 0, error: 'malformed pkt-line'}
    const len = parseInt(lenHex, 16)
    if (len === 0) {
      pos += 4
      flushes++
      if (!pushOptions || flushes === 2) break
      continue
    }
    if (len < 4 || pos + len > body.length) return {updates, blobs: [], objects: 0, unresolved: 0, error: 'truncated pkt-line'}
    let line = body.toString('utf8', pos + 4, pos + len)
    pos += len
    if (flushes === 0) {
      const nul = line.indexOf('\0')
      if (nul >= 0) {
        pushOptions = /(^| )push-options( |$)/.test(line.slice(nul + 1))
        line = line.slice(0, nul)
      }
      const m = /^([0-9a-f]{40}) ([0-9a-f]{40}) (\S+)\n?$/.exec(line)
      if (m !== null) updates.push({oldId: m[1]!, newId: m[2]!, ref: m[3]!})
    }
  }
  const pack = body.subarray(pos)
  if (pack.length === 0) return {updates, blobs: [], objects: 0, unresolved: 0, error: ''}
  return {updates, ...readPack(pack)}
}

interface PackObject {
  type: string
  data: Buffer | null
}

function readPack(pack: Buffer): Omit<ReceivePack, 'updates'> {
  if (pack.length < 12 || pack.toString('latin1', 0, 4) !== 'PACK') return {blobs: [], objects: 0, unresolved: 0, error: 'no PACK header'}
  const count = pack.readUInt32BE(8)
  const byOffset = new Map<number, PackObject>()
  const byId = new Map<string, PackObject>()
  const blobs: Buffer[] = []
  let unresolved = 0
  let pos = 12
  let n = 0
  for (; n < count && n < MAX_OBJECTS; n++) {
    const start = pos
    if (pos >= pack.length) return {blobs, objects: n, unresolved, error: 'truncated pack'}
    let c = pack[pos++]!
    const type = TYPES[(c >> 4) & 7] ?? ''
    while (c & 0x80) {
      if (pos >= pack.length) return {blobs, objects: n, unresolved, error: 'truncated pack'}
      c = pack[pos++]!
    }
    let base: PackObject | undefined
    if (type === 'ofs_delta') {
      c = pack[pos++]!
      let off = c & 0x7f
      while (c & 0x80) {
        c = pack[pos++]!
        off = ((off + 1) << 7) | (c & 0x7f)
      }
      base = byOffset.get(start - off)
    } else if (type === 'ref_delta') {
      base = byId.get(pack.toString('hex', pos, pos + 20))
      pos += 20
    } else if (type === '') return {blobs, objects: n, unresolved, error: 'unknown object type'}
    let data: Buffer
    try {
      const r = inflateSync(pack.subarray(pos), {info: true}) as unknown as {buffer: Buffer; engine: {bytesWritten: number}}
      data = r.buffer
      pos += r.engine.bytesWritten
    } catch (e) {
      return {blobs, objects: n, unresolved, error: `inflate: ${(e as Error).message}`}
    }
    let obj: PackObject
    if (type === 'ofs_delta' || type === 'ref_delta') {
      if (base?.data != null) {
        const rebuilt = applyDelta(base.data, data)
        obj = {type: base.type, data: rebuilt}
      } else {
        unresolved++
        const inserts = deltaInserts(data)
        if (inserts.length > 0) blobs.push(inserts)
        obj = {type: base?.type ?? '', data: null}
      }
    } else obj = {type, data}
    byOffset.set(start, obj)
    if (obj.data !== null && obj.type !== '') {
      byId.set(createHash('sha1').update(`${obj.type} ${obj.data.length}\0`).update(obj.data).digest('hex'), obj)
      if (obj.type === 'blob') blobs.push(obj.data)
      else if (obj.type === 'commit' || obj.type === 'tag') {
        // The message (after the headers' blank line) is pushed content too: a key in it leaves.
        const at = obj.data.indexOf('\n\n')
        if (at >= 0) blobs.push(obj.data.subarray(at + 2))
      }
    }
  }
  return {blobs, objects: n, unresolved, error: ''}
}

function varint(d: Buffer, pos: number): [number, number] {
  let v = 0
  let shift = 0
  let c: number
  do {
    c = d[pos++] ?? 0
    v += (c & 0x7f) * 2 ** shift
    shift += 7
  } while (c & 0x80 && pos < d.length)
  return [v, pos]
}

/** Git's delta format: base size, result size, then copy (MSB set) and insert instructions. */
function applyDelta(base: Buffer, delta: Buffer): Buffer | null {
  let [, pos] = varint(delta, 0)
  let size: number
  ;[size, pos] = varint(delta, pos)
  const out: Buffer[] = []
  let total = 0
  while (pos < delta.length) {
    const op = delta[pos++]!
    if (op & 0x80) {
      let off = 0
      let len = 0
      for (let i = 0; i < 4; i++) if (op & (1 << i)) off += delta[pos++]! * 2 ** (8 * i)
      for (let i = 0; i < 3; i++) if (op & (0x10 << i)) len += delta[pos++]! * 2 ** (8 * i)
      if (len === 0) len = 0x10000
      if (off + len > base.length) return null
      out.push(base.subarray(off, off + len))
      total += len
    } else if (op > 0) {
      out.push(delta.subarray(pos, pos + op))
      pos += op
      total += op
    } else return null
  }
  return total === size ? Buffer.concat(out) : null
}

/** The literal bytes a delta inserts (what is new in the object), joined by newlines. */
function deltaInserts(delta: Buffer): Buffer {
  let [, pos] = varint(delta, 0)
  ;[, pos] = varint(delta, pos)
  const out: Buffer[] = []
  while (pos < delta.length) {
    const op = delta[pos++]!
    if (op & 0x80) {
      for (let i = 0; i < 7; i++) if (op & (1 << i)) pos++
    } else if (op > 0) {
      out.push(delta.subarray(pos, pos + op), Buffer.from('\n'))
      pos += op
    } else break
  }
  return Buffer.concat(out)
}
