/**
 * Text DLP given the text's UTF-8 encoding (a request body read whole as UTF-8 is that encoding):
 * step 2's walk reads those bytes instead of encoding the text again, with the same findings,
 * order and warnings as without them — a key in a Cyrillic body is still found, and a text step 1
 * changes (the AWS documentation example) is walked as changed.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createDlpEngine, createScanner, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import {AWS_DOC_KEY} from '../../../src/plugins/scanner/text-dlp.js'
import {anthropicKey, awsKeyId, githubToken} from './fixtures.js'

const PROSE = 'съешь же ещё этих мягких французских булок, да выпей чаю. '

test('text DLP with the text\'s bytes finds what it finds without them', () => {
  const e = createDlpEngine(defaultScannerSettings())
  const texts = [
    `${PROSE.repeat(40)}key ${awsKeyId()} ${PROSE}`,
    `${PROSE}${anthropicKey()}\n${githubToken()}`,
    `${PROSE} example credential ${AWS_DOC_KEY} ${PROSE}`,
    `${PROSE.repeat(3)}${Buffer.from(anthropicKey()).toString('base64')}`,
    'ж',
    'AKIA',
    PROSE.repeat(100),
  ]
  for (const t of texts) {
    const plain = scanTextForDlp(e, t)
    const withBytes = scanTextForDlp(e, t, {utf8: Buffer.from(t, 'utf8')})
    assert.deepEqual(withBytes, plain, t.slice(0, 40))
  }
  assert.ok(scanTextForDlp(e, texts[0]!, {utf8: Buffer.from(texts[0]!)}).matches.some((m) => m.pattern === 'AWS Access ID' && m.encoding === ''))
})

test('a key in a Cyrillic text/plain request body is blocked, its documentation example is not', () => {
  const sc = createScanner(defaultScannerSettings())
  const body = Buffer.from(`${PROSE.repeat(200)}${awsKeyId()} ${PROSE.repeat(200)}`)
  const r = sc.scanRequestBody({contentType: 'text/plain', body})
  assert.equal(r.action, 'block')
  assert.deepEqual([...new Set(r.dlp.map((m) => m.pattern))], ['AWS Access ID'])
  assert.ok(r.dlp.some((m) => m.encoding === ''), 'found on the text as given (step 2)')
  const example = sc.scanRequestBody({contentType: 'text/plain; charset=utf-8', body: Buffer.from(`${PROSE.repeat(200)}example credential ${AWS_DOC_KEY} ${PROSE}`)})
  assert.equal(example.action, 'allow')
})
