/**
 * The validator shapes of `joined-text-cores.ts` must hold in every hit the validator accepts
 * (else the joined-text screen could leave out a text with a finding): generated valid WIF keys
 * and IBANs of every listed country are accepted by their validators and hold the shapes, and
 * the validators refuse what the shapes leave out.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {IBAN_LENGTHS, validateMod97, validateWif} from '../../../src/plugins/scanner/index.js'
import {IBAN_STRICT_SHAPE, WIF_SHAPE, buildJoinedTextScreens} from '../../../src/plugins/scanner/joined-text-cores.js'
import {createDlpEngine, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {base58chars, prng, upperAlnum, wif} from './fixtures.js'

test('wif shape: every accepted WIF key is a 5 and 50 more case-sensitive base58 characters, or K/L and 51; other characters are refused', () => {
  const shape = new RE2(WIF_SHAPE, 'u')
  for (let i = 0; i < 300; i++) {
    for (const compressed of [true, false]) {
      const k = wif(compressed, `key-${i}`)
      assert.equal(validateWif(k), true)
      assert.ok(shape.test(k), k)
      assert.equal(shape.exec(k)?.[0], k)
      // The same key with one character moved out of the case-sensitive alphabet is refused.
      for (const bad of ['0', 'O', 'I', 'l']) assert.equal(validateWif(k.slice(0, 7) + bad + k.slice(8)), false)
      assert.equal(validateWif(k.toLowerCase()), false)
    }
  }
  // Shorter base58 strings never decode to a WIF body.
  for (let n = 1; n < 51; n++) assert.equal(validateWif(base58chars(n, n)), false)
})

test('strict IBAN shape: every accepted IBAN without spaces or dashes holds country code + two digits', () => {
  const shape = new RE2(IBAN_STRICT_SHAPE, 'u')
  const r = prng(97)
  const mod97 = (s: string): number => {
    let rem = 0
    for (const ch of s) {
      const v = /[0-9]/.test(ch) ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 55
      rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97
    }
    return rem
  }
  for (const [cc, len] of Object.entries(IBAN_LENGTHS)) {
    for (let i = 0; i < 5; i++) {
      const bban = upperAlnum(len - 4, Math.floor(r() * 1e6))
      const check = String(98 - mod97(bban + cc + '00')).padStart(2, '0')
      const iban = cc + check + bban
      assert.equal(validateMod97(iban), true, iban)
      assert.ok(shape.test(iban) && shape.test(iban.toLowerCase()), iban)
    }
  }
  // A country code that is not listed is refused whatever the check digits.
  for (let d = 0; d < 100; d++) assert.equal(validateMod97(`QQ${String(d).padStart(2, '0')}WEST12345698765432`), false)
})

test('screens: built for the default patterns, the WIF entry is its shape, the strict IBAN entry its country codes', () => {
  const all = createDlpEngine(defaultScannerSettings()).all
  const s = buildJoinedTextScreens(all)
  assert.ok(s !== null)
  assert.ok(s.window >= 52)
  const wifKey = wif(true, 'screen')
  const at = all.findIndex((p) => p.validator === 'wif')
  const iban = all.findIndex((p) => p.validator === 'mod97')
  assert.ok(at >= 0 && iban >= 0)
  assert.ok(s.strict.match('GB82WEST12345698765432').includes(iban))
  assert.ok(s.set.match('UE13VALUE13VALUE13').includes(iban), 'the plain screen keeps the IBAN regex core')
  assert.ok(!s.strict.match('UE13VALUE13VALUE13').includes(iban), 'UE is no IBAN country')
  assert.ok(s.set.match(wifKey).includes(at))
  assert.ok(!s.set.match('value1value1value1value1value1value1value1value1value1value1').includes(at), 'lower-case l is not base58')
})
