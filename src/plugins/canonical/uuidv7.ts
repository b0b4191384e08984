// UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, 74 random bits: receipt action
// ids, lifecycle intent and authorisation ids. Time and randomness are injected (pure).

export function uuidv7(nowNanos: bigint, random: (n: number) => Uint8Array): string {
  const b = Buffer.from(random(16))
  const ms = nowNanos / 1_000_000n
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  b[6] = ((b[6] as number) & 0x0f) | 0x70
  b[8] = ((b[8] as number) & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
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
