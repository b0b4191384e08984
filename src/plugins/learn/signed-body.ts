import {createHash} from 'node:crypto'
import {canonicalizeTo, type ArrayExpander, type JsonObject} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'

// The contract body's hash and signature bytes (§9–10), written by one canonical pass of the
// rules instead of two (issue 36: the pass over 200,000 rules was ≈ 4 % of a compile's CPU, each
// time). The hash covers the canonical body with `contract_hash: ""`; the signature covers the
// same body with the hash filled in. Both are the same bytes but for that one value, so the body
// is written once with the empty value, hashed, and the hash is spliced into the empty string.

/** Text gathered into ≈ 64 KiB pieces for `write` (writes per piece, not per token). */
class PieceSink {
  private piece = ''

  constructor(private readonly write: (piece: string) => void) {}

  push(text: string): void {
    this.piece += text
    if (this.piece.length >= 65536) this.flush()
  }

  flush(): void {
    if (this.piece !== '') this.write(this.piece)
    this.piece = ''
  }
}

/**
 * The member as the canonical body writes it before the hash is known. A canonical string never
 * holds an unescaped `"`, so these bytes can only be a `contract_hash` key with an empty value;
 * keys are sorted, and the only members before the top-level `contract_hash` are the `compile`
 * object's fixed keys, so the first occurrence is the top-level one.
 */
const EMPTY_HASH_MEMBER = Buffer.from('"contract_hash":""', 'latin1')

/** `sha256:` and 64 hex digits. */
const HASH_TEXT_BYTES = 71

/** Committed memory grows by this much at a time (the reservation is `maxBytes`). */
const GROW_BYTES = 16 * 1024 * 1024

export interface SignedBody {
  hash: string
  signature: string
}

/**
 * Hashes and signs the canonical form of `projected` (whose `contract_hash` is `''`), its rules
 * written by `expand`. The body is written once into a resizable buffer reserved at `maxBytes`
 * and grown as it fills (so no second copy is ever held, as before); a body larger than that
 * takes the two-pass path (`twoPassSignedBody`). The buffer is shrunk to nothing once signed, so
 * its memory goes back at once instead of at a later collection. `beforeBody` runs first (the
 * command's heap compaction for a large contract).
 */
export function writeSignedBody(projected: JsonObject, expand: ArrayExpander, sign: (body: Buffer) => string, maxBytes: number, beforeBody?: () => void): SignedBody {
  beforeBody?.()
  const memory = new ArrayBuffer(Math.min(GROW_BYTES, maxBytes), {maxByteLength: maxBytes})
  try {
    let view = Buffer.from(memory, 0, memory.byteLength)
    let at = 0
    let overflow = false
    /** Room for `bytes` more bytes at `at`; false when the reservation is too small. */
    const room = (bytes: number): boolean => {
      if (at + bytes <= view.length) return true
      if (at + bytes > maxBytes) return false
      memory.resize(Math.min(maxBytes, Math.max(at + bytes, view.length + GROW_BYTES)))
      view = Buffer.from(memory, 0, memory.byteLength)
      return true
    }
    const sink = new PieceSink((piece) => {
      if (overflow) return
      // At most 3 UTF-8 bytes per UTF-16 unit: a piece is never written in part.
      if (!room(piece.length * 3)) overflow = true
      else at += view.write(piece, at, 'utf8')
    })
    canonicalizeTo(projected, sink, expand)
    sink.flush()
    if (overflow || !room(HASH_TEXT_BYTES)) {
      memory.resize(0)
      return twoPassSignedBody(projected, expand, sign)
    }
    const hash = 'sha256:' + sha256Hex(view.subarray(0, at))
    const member = view.subarray(0, at).indexOf(EMPTY_HASH_MEMBER)
    if (member < 0) throw new Error('canonical body has no empty contract_hash member')
    const value = member + EMPTY_HASH_MEMBER.length - 1 // the closing quote of the empty value
    view.copyWithin(value + HASH_TEXT_BYTES, value, at)
    view.write(hash, value, 'latin1')
    at += HASH_TEXT_BYTES
    return {hash, signature: sign(view.subarray(0, at))}
  } finally {
    memory.resize(0)
  }
}

/**
 * The same hash and signature in two passes: the body is hashed as it is written, then written
 * again with the hash into one buffer of the counted size (a body beyond `writeSignedBody`'s
 * reservation).
 */
function twoPassSignedBody(projected: JsonObject, expand: ArrayExpander, sign: (body: Buffer) => string): SignedBody {
  const hasher = createHash('sha256')
  let unhashedBytes = 0
  const hashSink = new PieceSink((piece) => {
    hasher.update(piece, 'utf8')
    unhashedBytes += Buffer.byteLength(piece, 'utf8')
  })
  canonicalizeTo(projected, hashSink, expand)
  hashSink.flush()
  const hash = 'sha256:' + hasher.digest('hex')
  projected.set('contract_hash', hash)
  try {
    const size = unhashedBytes + HASH_TEXT_BYTES
    const memory = new ArrayBuffer(size, {maxByteLength: size})
    try {
      const signed = Buffer.from(memory, 0, size)
      let at = 0
      const bodySink = new PieceSink((piece) => {
        at += signed.write(piece, at, 'utf8')
      })
      canonicalizeTo(projected, bodySink, expand)
      bodySink.flush()
      if (at !== size) throw new Error(`canonical body is ${at} bytes, ${size} expected`)
      return {hash, signature: sign(signed)}
    } finally {
      memory.resize(0)
    }
  } finally {
    projected.set('contract_hash', '')
  }
}
