import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {validateAba, validateLuhn, validateMod97, validateWif, bip39ChecksumValid} from '../../../src/plugins/scanner/index.js'
import {base58CheckEncode, wif} from './fixtures.js'

/** Appends the Luhn check digit to a digit string. */
function withCheck(body: string): string {
  for (let d = 0; d <= 9; d++) {
    const s = body + d
    let sum = 0
    for (let i = 0; i < s.length; i++) {
      let v = Number(s[s.length - 1 - i])
      if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2
      sum += v
    }
    if (sum % 10 === 0) return s
  }
  throw new Error('unreachable')
}

test('luhn: issuer table and checksum', () => {
  const cases: Array<[string, boolean]> = [
    ['4111 1111 1111 1111', true],
    ['4111-1111-1111-1112', false],
    [withCheck('411111111111111111'), true], // Visa 19
    [withCheck('41111111111111111'), false], // Visa 18: bad length
    ['378282246310005', true], // Amex 15
    [withCheck('37828224631000'.padEnd(15, '0')), false], // Amex 16
    ['5555555555554444', true],
    [withCheck('565555555555444'), false], // 56xx not Mastercard
    ['6011111111111117', true],
    [withCheck('644011111111111'), true],
    [withCheck('650011111111111'), true],
    [withCheck('602011111111111'), false],
    ['3530111333300000', true], // JCB
    [withCheck('352711133330000'), false],
    [withCheck('222100000000000'), true],
    [withCheck('272100000000000'), false],
    [withCheck('71111111111111'), false], // 7: no issuer
    ['41111111111111', false], // 14 digits
    ['4'.repeat(20), false], // > 19 digits
    ['', false],
  ]
  for (const [n, want] of cases) assert.equal(validateLuhn(n), want, n)
})

test('mod97: IBAN lengths, prefix shape and remainder', () => {
  const cases: Array<[string, boolean]> = [
    ['GB82WEST12345698765432', true],
    ['GB82 WEST 1234 5698 7654 32', true],
    ['gb82west12345698765432', true],
    ['GB82-WEST-1234-5698-7654-32', true],
    ['DE89370400440532013000', true],
    ['NO9386011117947', true],
    ['GB82WEST12345698765433', false],
    ['GB82WEST1234569876543', false], // wrong length for GB
    ['XX82WEST12345698765432', false], // unknown country
    ['G182WEST12345698765432', false],
    ['GBX2WEST12345698765432', false],
    ['GB82WEST1234569876543$', false],
    ['NO938601111794', false], // too short overall
  ]
  for (const [s, want] of cases) assert.equal(validateMod97(s), want, s)
})

test('aba: prefix ranges and 3-7-1 weights', () => {
  const cases: Array<[string, boolean]> = [
    ['011000015', true],
    ['021000021', true],
    ['011000016', false],
    ['131000000', false],
    ['800000006', true],
    ['01100001', false],
    ['01100001a', false],
  ]
  for (const [s, want] of cases) assert.equal(validateAba(s), want, s)
})

test('wif: version, length, compression flag and checksum', () => {
  assert.equal(validateWif(wif(false)), true)
  assert.equal(validateWif(wif(true)), true)
  const w = wif(false)
  const tampered = w.slice(0, 10) + (w[10] === 'a' ? 'b' : 'a') + w.slice(11)
  assert.equal(validateWif(tampered), false)
  const key = createHash('sha256').update('x').digest()
  assert.equal(validateWif(base58CheckEncode(Buffer.concat([Buffer.from([0xef]), key]))), false, 'testnet version')
  assert.equal(validateWif(base58CheckEncode(Buffer.concat([Buffer.from([0x80]), key, Buffer.from([0x02])]))), false)
  assert.equal(validateWif(base58CheckEncode(Buffer.concat([Buffer.from([0x80]), key.subarray(0, 31)]))), false)
  assert.equal(validateWif('0OIl'), false, 'non-base58 characters')
})

test('bip39 checksum over indices', () => {
  // 12 × index 0 = 128 zero bits of entropy; checksum bits are the first 4 bits of SHA-256(0^16).
  const h = createHash('sha256').update(Buffer.alloc(16)).digest()[0]! >> 4
  const words = Array(11).fill(0).concat([h])
  assert.equal(bip39ChecksumValid(words), true)
  assert.equal(bip39ChecksumValid(Array(11).fill(0).concat([(h + 1) % 16])), false)
  assert.equal(bip39ChecksumValid([0, 0, 0]), false)
})

/** The bit-string form of the BIP-39 checksum (the specification's wording), the oracle below. */
function checksumOracle(indices: readonly number[]): boolean {
  const total = indices.length * 11
  if (total === 0 || total % 33 !== 0) return false
  const cs = total / 33
  const entBits = total - cs
  let bits = ''
  for (const i of indices) bits += i.toString(2).padStart(11, '0')
  const ent = Buffer.alloc(entBits / 8)
  for (let i = 0; i < ent.length; i++) ent[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2)
  const hash = createHash('sha256').update(ent).digest()
  let hbits = ''
  for (const b of hash.subarray(0, Math.ceil(cs / 8))) hbits += b.toString(2).padStart(8, '0')
  return hbits.slice(0, cs) === bits.slice(entBits)
}

test('bip39 checksum: the packed form agrees with the bit-string form on every window length, valid and not', () => {
  let seed = 7
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed % n
  }
  let valid = 0
  for (const words of [3, 6, 9, 12, 13, 15, 18, 21, 24, 27, 33]) {
    for (let k = 0; k < 1000; k++) {
      const w = Array.from({length: words}, () => rnd(2048))
      // Make about one in two windows valid: set the last word's checksum bits from the oracle's search.
      if (k % 2 === 0 && words % 3 === 0) {
        for (let c = 0; c < 256 && !checksumOracle(w); c++) w[words - 1] = (w[words - 1]! & ~0xff) | c
      }
      const want = checksumOracle(w)
      if (want) valid++
      assert.equal(bip39ChecksumValid(w), want, `${words} words: ${w.join(',')}`)
    }
  }
  assert.ok(valid > 3300, `valid windows exercised: ${valid}`)
})
