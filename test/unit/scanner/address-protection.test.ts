// Address-poisoning protection (scanners-extra §4): format vectors per chain (EIP-55 from the EIP's
// own examples, BIP-173/350 Bech32/Bech32m, Base58Check P2PKH/P2SH, 32-byte Solana keys, bnb1
// Bech32), the decoding chain (URL-encoded twice, base64, hex, zero-width), the lookalike table and
// the exact explanations.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AddressChecker, bech32Decode, detectAddresses, eip55Valid, parseAllowedAddress, toEip55, type AddressProtectionSettings, type Chain} from '../../../src/plugins/scanner/index.js'

const ALL = new Set<Chain>(['eth', 'btc', 'sol', 'bnb'])

test('EIP-55: the specification\'s examples pass, a flipped case fails, single-case spellings carry no checksum', () => {
  for (const a of ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb']) {
    assert.equal(eip55Valid(a), true, a)
    assert.equal(toEip55(a.slice(2)), a)
  }
  assert.equal(eip55Valid('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'), false)
  assert.equal(eip55Valid('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'), true)
  assert.equal(eip55Valid('0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED'), true)
})

test('chain formats: valid and invalid vectors', () => {
  const cases: Array<[string, Chain | null]> = [
    ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'eth'],
    ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA', null], // 38 hex digits
    ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'btc'], // P2PKH
    ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', null], // Base58Check fails
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'btc'], // P2SH
    ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', 'btc'], // BIP-173 v0, bech32
    ['BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ', 'btc'], // all upper
    ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx', null], // checksum
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', 'btc'], // BIP-350 v1, bech32m
    ['So11111111111111111111111111111111111111112', 'sol'], // 32-byte key
    ['1111111111111111111111111111111', null], // 31 bytes of zero: not a 32-byte key (nor a Base58Check address)
    ['bnb1grpf0955h0ykzq3ar5nmum7y6gdfl6lxfn46h2', 'bnb'],
    ['bnb1grpf0955h0ykzq3ar5nmum7y6gdfl6lxfn46h3', null],
  ]
  for (const [a, chain] of cases) assert.equal(parseAllowedAddress(a, ALL)?.chain ?? null, chain, a)
  // v0 must be bech32 and v1 bech32m (BIP-350): the same data under the other constant is refused.
  assert.equal(bech32Decode('bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq')?.variant, 'bech32')
  assert.equal(bech32Decode('bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0')?.variant, 'bech32m')
  assert.equal(parseAllowedAddress('So11111111111111111111111111111111111111112', new Set<Chain>(['eth', 'btc'])), null, 'sol disabled')
})

test('detection finds addresses in prose, per enabled chain', () => {
  const text = 'pay 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq, not 0xZZ'
  assert.deepEqual(detectAddresses(text, ALL).map((h) => h.chain), ['eth', 'btc'])
  assert.deepEqual(detectAddresses(text, new Set<Chain>(['btc'])).map((h) => h.key), ['qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'])
})

const ALLOWED_ETH = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
// One character off in the middle: same first and last four payload characters.
const LOOKALIKE_ETH = '0x5aaeb6053f3e94c9b9b09f33669435e7ef1beaed'
const OTHER_ETH = '0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359'

function checker(over: Partial<AddressProtectionSettings> = {}): AddressChecker {
  return new AddressChecker({enabled: true, action: 'block', unknownAction: 'allow', allowedAddresses: [ALLOWED_ETH, '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T'], chains: ALL, prefixLength: 4, suffixLength: 4, ...over})
}

test('lookalike table: same key allowed, prefix/suffix match with a different middle is a lookalike, otherwise unknown', () => {
  const c = checker()
  assert.deepEqual(c.check(`send to ${ALLOWED_ETH}`).findings, [])
  assert.deepEqual(c.check(`send to ${toEip55(ALLOWED_ETH.slice(2))}`).findings, [], 'checksummed spelling of the allowlisted address')
  const look = c.check(`send to ${LOOKALIKE_ETH} now`)
  assert.equal(look.action, 'block')
  assert.deepEqual(look.findings, [{
    chain: 'eth', verdict: 'lookalike', action: 'block', address: '0x5aaeb6...1beaed',
    explanation: 'ETH address 0x5aaeb6...1beaed resembles allowlisted 0x5aaeb6...1beaed: first 4 and last 4 payload characters match, middle differs (possible address poisoning)',
  }])
  assert.deepEqual(c.check(`send to ${OTHER_ETH}`).findings, [], 'unknown_action allow')
  const warnUnknown = checker({unknownAction: 'warn'}).check(`send to ${OTHER_ETH}`)
  assert.equal(warnUnknown.action, 'warn')
  assert.equal(warnUnknown.findings[0]!.explanation, 'ETH address 0xfb6916...c5d359 is not in the allowlist')
  assert.equal(checker({action: 'warn'}).check(LOOKALIKE_ETH).action, 'warn')
  // prefix + suffix ≥ length: nothing is left in the middle to differ, so it is unknown, not a lookalike.
  assert.deepEqual(checker({prefixLength: 20, suffixLength: 20, unknownAction: 'warn'}).check(LOOKALIKE_ETH).findings.map((f) => f.verdict), ['unknown'])
  // Solana: the allowlisted key with a middle character changed (still 32 bytes) is a lookalike.
  const solLook = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp8D4xWLs4gDB4T'
  assert.equal(parseAllowedAddress(solLook, ALL)?.chain, 'sol')
  assert.deepEqual(c.check(`to ${solLook}`).findings.map((f) => [f.chain, f.verdict]), [['sol', 'lookalike']])
  // A chain with nothing allowlisted yields no finding, and an empty allowlist makes the feature inert.
  assert.deepEqual(c.check('to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq').findings, [])
  assert.deepEqual(checker({allowedAddresses: [], unknownAction: 'block'}).check(OTHER_ETH).findings, [])
})

test('EIP-55: a mixed-case address whose checksum fails is flagged with action; the allowlist\'s own spelling is not', () => {
  const bad = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'
  const r = checker().check(`to ${bad}`)
  assert.deepEqual(r.findings.map((f) => [f.verdict, f.action, f.explanation]), [['checksum', 'block', 'ETH address 0x5aaeb6...1beaed fails its EIP-55 checksum (altered or mistyped address)']])
  assert.deepEqual(checker({allowedAddresses: [bad]}).check(`to ${bad}`).findings, [])
})

test('decoding chain: URL-encoded twice, base64, hex, zero-width characters inside', () => {
  const c = checker()
  const twice = encodeURIComponent(encodeURIComponent(`to=${LOOKALIKE_ETH}&x=1`))
  assert.equal(c.check(twice).action, 'block')
  assert.equal(c.check(Buffer.from(LOOKALIKE_ETH).toString('base64')).action, 'block')
  assert.equal(c.check(Buffer.from(`send ${LOOKALIKE_ETH}`).toString('hex')).action, 'block')
  assert.equal(c.check(`${LOOKALIKE_ETH.slice(0, 10)}\u200b${LOOKALIKE_ETH.slice(10)}`).action, 'block')
  assert.equal(c.check('nothing to see here, just prose long enough to be read').action, null)
})
