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
