// Go encoding/hex DecodeString, including its exact error texts (receipts.md §5.3).

export class HexError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HexError'
  }
}

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

// Go formats the offending byte with %#U: `U+0067 'g'`, the quoted part only when printable.
function invalidByte(b: number): HexError {
  const code = 'U+' + b.toString(16).toUpperCase().padStart(4, '0')
  const printable = (b >= 0x20 && b <= 0x7e) || (b >= 0xa1 && b !== 0xad && b <= 0xff)
  return new HexError(`encoding/hex: invalid byte: ${printable ? `${code} '${String.fromCharCode(b)}'` : code}`)
}

/** Decodes hex (either case) exactly as Go does, pair by pair, throwing Go's error text. */
export function decodeGoHex(s: string): Buffer {
  // Well-formed input (what every valid receipt carries) decodes natively; anything else takes
  // the pair-by-pair path below for Go's exact error text.
  if (s.length % 2 === 0 && WELL_FORMED_HEX.test(s)) return Buffer.from(s, 'hex')
  const bytes = Buffer.from(s, 'utf8')
  const out = Buffer.alloc(bytes.length >> 1)
  let j = 1
  for (; j < bytes.length; j += 2) {
    const a = nibble(bytes[j - 1] as number)
    const b = nibble(bytes[j] as number)
    if (a < 0) throw invalidByte(bytes[j - 1] as number)
    if (b < 0) throw invalidByte(bytes[j] as number)
    out[(j - 1) >> 1] = (a << 4) | b
  }
  if (bytes.length % 2 === 1) {
    if (nibble(bytes[j - 1] as number) < 0) throw invalidByte(bytes[j - 1] as number)
    throw new HexError('encoding/hex: odd length hex string')
  }
  return out
}

const WELL_FORMED_HEX = /^[0-9a-fA-F]*$/

export const LOWER_HEX_64 = /^[0-9a-f]{64}$/
