// UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, 74 random bits: receipt action
// ids, lifecycle intent and authorisation ids. Time and randomness are injected (pure).

// Two hex digits per byte value (a constant table: ids are minted per proxy decision).
const HEX_BYTE: readonly string[] = Array.from({length: 256}, (_, i) => i.toString(16).padStart(2, '0'))

export function uuidv7(nowNanos: bigint, random: (n: number) => Uint8Array): string {
  const r = random(16)
  const ms = nowNanos / 1_000_000n
  // 48 bits of milliseconds as two 24-bit halves (two's complement, as a byte-wise shift gives).
  const hi = Number((ms >> 24n) & 0xffffffn)
  const lo = Number(ms & 0xffffffn)
  const h = (i: number): string => HEX_BYTE[(r[i] as number) & 0xff] as string
  return (
    HEX_BYTE[hi >>> 16]! + HEX_BYTE[(hi >>> 8) & 0xff]! + HEX_BYTE[hi & 0xff]! + HEX_BYTE[lo >>> 16]! + '-' +
    HEX_BYTE[(lo >>> 8) & 0xff]! + HEX_BYTE[lo & 0xff]! + '-' +
    HEX_BYTE[((r[6] as number) & 0x0f) | 0x70]! + h(7) + '-' +
    HEX_BYTE[((r[8] as number) & 0x3f) | 0x80]! + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  )
}

// Crockford base32 (ULID alphabet: no I, L, O, U).
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * The 26-character ULID spelling of a UUID's 128 bits (runtime §10.1 `X-Pipelock-Block-Reason-
 * Receipt`). A UUIDv7 and a ULID share their layout (48-bit milliseconds first), so this is a
 * bijection: `ulidToUuid` gives back the receipt's `action_id`. Undefined for a non-UUID.
 */
export function uuidToUlid(uuid: string): string | undefined {
  const hex = uuid.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return undefined
  let n = BigInt('0x' + hex)
  let out = ''
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(n & 31n)]! + out
    n >>= 5n
  }
  return out
}

/** The UUID (8-4-4-4-12, lower-case) behind a ULID; undefined when it is not a valid ULID. */
export function ulidToUuid(ulid: string): string | undefined {
  const s = ulid.toUpperCase()
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(s)) return undefined
  let n = 0n
  for (const c of s) n = (n << 5n) | BigInt(CROCKFORD.indexOf(c))
  const h = n.toString(16).padStart(32, '0')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
