/**
 * The specified readings that take separators out (text DLP step 5 without white space or dots,
 * the URL's noise-stripped, concatenated and subsequence texts, the host without its dots, the
 * split-secret pass's values joined) judge a hit across a cut as words joined (joints.ts
 * `WORDS_JOINED`, `LABELS_JOINED`): prose such as `the canvas element renders the chart` or
 * `best asian restaurants 2024` is no `AWS Access ID`, and a key spaced out, dotted or cut into
 * values is still found, behind prose too.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createDlpEngine, createScanner, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import {guardedJoint, jointWithout, LABELS_JOINED, WORDS_JOINED} from '../../../src/plugins/scanner/joints.js'
import {awsKeyId} from './fixtures.js'

const KEY = awsKeyId() // AKIA + 16 upper-case letters and digits
const spaced = (s: string, sep: string, every = 4): string => s.match(new RegExp(`.{1,${every}}`, 'g'))!.join(sep)
const settings = defaultScannerSettings()
settings.requestBodyScanning = {...settings.requestBodyScanning, enabled: true}
const scanner = createScanner(settings)
const dlp = createDlpEngine(defaultScannerSettings())
const textFindings = (t: string): string[] => scanTextForDlp(dlp, t).matches.map((m) => `${m.pattern}/${m.encoding}`)
const urlFindings = (u: string): string[] => scanner.scanUrlDlp(u).matches.map((m) => `${m.pattern}/${m.encoding}`)
const bodyAction = (body: string, contentType = 'application/json'): string => scanner.scanRequestBody({body: Buffer.from(body), contentType}).action

const PROSE = [
  'the canvas element renders the chart',
  'our asia pacific region grew strongly',
  'best asian restaurants 2024 near me',
  'Bratislava, Slovakia is where the team meets',
  'the asian canvas market in three lines',
  'the canvas is 800 pixels wide and 600 tall',
  'asia pacific 2025 outlook report',
  'see canvas.element.renders.the.chart for the details',
]

test('text DLP: prose joined across white space or dots is not a key', () => {
  for (const t of PROSE) assert.deepEqual(textFindings(t), [], t)
  // Lines and tabs: the normalised text (step 4) drops them with the other controls.
  for (const t of ['the canvas\nelement renders the chart', 'asia\ncategory\nelectronicsandgadgets', 'best\tasian\trestaurants\t2024']) assert.deepEqual(textFindings(t), [], t)
  // The same words in a chat request body, a form body and a header-sized text.
  for (const t of PROSE) {
    assert.equal(bodyAction(JSON.stringify({messages: [{role: 'user', content: t}]})), 'allow', t)
    assert.equal(bodyAction(`q=${encodeURIComponent(t)}`, 'application/x-www-form-urlencoded'), 'allow', t)
  }
})

test('text DLP: a key spaced out, dotted or wrapped is found, behind prose too', () => {
  assert.deepEqual(textFindings(spaced(KEY, ' ')), ['AWS Access ID/whitespace'])
  assert.deepEqual(textFindings(`my key is ${spaced(KEY, ' ')} ok`), ['AWS Access ID/whitespace'])
  assert.deepEqual(textFindings(`x.${spaced(KEY, '.')}`), ['AWS Access ID/subdomain'])
  // Wrapped at a line break: the normalised text already holds it whole.
  assert.deepEqual(textFindings(`key=${KEY.slice(0, 13)}\n${KEY.slice(13)}`).map((f) => f.split('/')[0]), ['AWS Access ID'])
  assert.deepEqual(textFindings(`the canvas element renders ${spaced(KEY, ' ')}`), ['AWS Access ID/whitespace'])
  assert.deepEqual(textFindings(`key:\n${spaced(KEY, '\n')}`), ['AWS Access ID/'])
  assert.ok(textFindings(`the canvas\nelement renders\n${spaced(KEY, '\n')}`).includes('AWS Access ID/'))
  assert.deepEqual(textFindings(`best asian restaurants ${spaced(KEY, ' ')}`), ['AWS Access ID/whitespace'])
  // In lower case with its digits, spaced: the pieces are not lower-case letters alone.
  assert.deepEqual(textFindings(spaced('akia2b3c4d5e6f7g2h3j', ' ')), ['AWS Access ID/whitespace'])
  // A chain of key-prefix words longer than the rounds allow is read as it stands (fail closed).
  const chain = `${'canvas '.repeat(20)}${KEY}`
  assert.ok(textFindings(chain).includes('AWS Access ID/whitespace'), chain)
  assert.equal(bodyAction(JSON.stringify({messages: [{role: 'user', content: `my key is ${spaced(KEY, ' ')}`}]})), 'block')
})

test('URL DLP: search queries, paths and hosts of words are not keys; a key cut by the same separators is', () => {
  const clean = [
    'https://example.com/search?q=the+canvas+element+renders+the+chart&x=1',
    'https://example.com/search?q=best%20asian%20restaurants%202024%20near%20me',
    'https://shop.example.com/list?region=asia&category=electronics',
    'https://shop.example.com/list?region=asia&category=electronicsandgadgets',
    'https://example.com/search?q=canvas&q2=elementrenderschart',
    'https://example.com/s?a=canvas&b=1&c=elementrenderschart',
    'https://example.com/?canvas=elementrenderschart',
    'https://example.com/a.canvas.element.renders.the.chart',
    'https://eastasia.api.cognitive.microsoft.com/x',
  ]
  for (const u of clean) assert.deepEqual(urlFindings(u), [], u)
  const lower = KEY.toLowerCase()
  assert.deepEqual(urlFindings(`https://x.example/s?q=${spaced(KEY, '+')}`), ['AWS Access ID/param_noise'])
  assert.deepEqual(urlFindings(`https://x.example/s?a=${KEY.slice(0, 8)}&b=${KEY.slice(8)}`), ['AWS Access ID/concat'])
  assert.deepEqual(urlFindings(`https://x.example/s?a=${KEY.slice(0, 8)}&b=1&c=x&d=${KEY.slice(8)}`), ['AWS Access ID/subsequence'])
  assert.deepEqual(urlFindings(`https://x.example/s?${KEY.slice(0, 8)}=${KEY.slice(8)}`), ['AWS Access ID/query_named'])
  assert.deepEqual(urlFindings(`https://${lower.slice(0, 8)}.${lower.slice(8)}.evil.example/`), ['AWS Access ID/host'])
  assert.deepEqual(urlFindings(`https://${spaced(lower, '.')}.evil.example/`), ['AWS Access ID/host'])
})

test('split values: a value ending in a key prefix is no key; a key cut into values is', () => {
  assert.equal(bodyAction(JSON.stringify({type: 'canvas', id: 'a1b2c3d4e5f6g7h8'})), 'allow')
  assert.equal(bodyAction(JSON.stringify({region: 'asia', category: 'electronicsandgadgets'})), 'allow')
  assert.equal(bodyAction(JSON.stringify({a: KEY.slice(0, 8).toLowerCase(), b: KEY.slice(8).toLowerCase()})), 'block')
  assert.equal(bodyAction(JSON.stringify({a: KEY.slice(0, 8), b: KEY.slice(8)})), 'block')
  assert.equal(bodyAction(JSON.stringify({t: 'canvas', a: KEY.slice(0, 8), b: KEY.slice(8)})), 'block')
  assert.equal(bodyAction(JSON.stringify(Object.fromEntries(spaced(KEY, ' ').split(' ').map((p, i) => [`k${i}`, p])))), 'block')
})

test('guardedJoint with the word rules: what is put back, exactly', () => {
  const prose = jointWithout('the canvas element renders the chart', (c) => c === 0x20)
  assert.equal(guardedJoint(dlp, prose.text, prose.cuts, undefined, WORDS_JOINED), 'thecanvas elementrendersthechart')
  const asian = jointWithout('best asian canvas market in three lines', (c) => c === 0x20)
  assert.equal(guardedJoint(dlp, asian.text, asian.cuts, undefined, WORDS_JOINED), 'bestasian canvas marketinthreelines')
  const key = jointWithout(`the canvas element renders ${spaced(KEY, ' ')}`, (c) => c === 0x20)
  assert.equal(guardedJoint(dlp, key.text, key.cuts, undefined, WORDS_JOINED), `thecanvas elementrenders${KEY}`)
  // A host's labels carry no case: a hit stands when it starts a label, whatever runs through it.
  const host = jointWithout('eastasia.api.cognitive.microsoft.com', (c) => c === 0x2e)
  assert.equal(guardedJoint(dlp, host.text, host.cuts, undefined, LABELS_JOINED), 'eastasia.apicognitivemicrosoftcom')
  const dotted = jointWithout(`${spaced(KEY.toLowerCase(), '.')}.evil.example`, (c) => c === 0x2e)
  assert.equal(guardedJoint(dlp, dotted.text, dotted.cuts, undefined, LABELS_JOINED), dotted.text)
})

test('documented limit: a key in lower case spaced into pieces mostly without digits reads as words', () => {
  // docs/security.md, "Known limits": most of the pieces `akia bcde …` are lower-case words to the rule.
  assert.deepEqual(textFindings('akia bcde fghj kmnp qrst'), [])
  assert.deepEqual(textFindings('akia bcde fgh2 kmn3 qrs4'), ['AWS Access ID/whitespace'])
  assert.deepEqual(textFindings('AKIA BCDE FGHJ KMNP QRST'), ['AWS Access ID/whitespace'])
})

// Words from a package manifest: their sorted join, without its line breaks and its one space,
// reads as a Discord bot token (`[MN][A-Za-z0-9]{23,}\.…{6}\.…{27,}`, case-insensitive).
const MANIFEST = {
  name: 'once', version: '1.4.0', description: 'Run a function exactly one time', main: 'once.js',
  directories: {test: 'test'}, dependencies: {wrappy: '1'}, devDependencies: {tap: '^7.0.1'}, scripts: {test: 'tap test/*.js'},
  files: ['once.js'], repository: {type: 'git', url: 'git://github.com/isaacs/once'}, keywords: ['once', 'function', 'one', 'single'],
  author: 'Isaac Z. Schlueter <i@izs.me> (http://blog.izs.me/)', license: 'ISC',
}

test('step 5 judges its readings at the lines\' joints too: a manifest\'s words joined are no token; a token cut over lines and spaces is', () => {
  for (const extra of [{}, {keywords: [...MANIFEST.keywords, 'c++']}, {scripts: {test: 'tap'}}]) {
    const body = JSON.stringify({...MANIFEST, ...extra}, null, 2)
    assert.equal(bodyAction(body), 'allow', JSON.stringify(extra))
  }
  const lines = ['license', 'main', 'name', 'once', 'once.js', 'once.js', 'one', 'repository', 'scripts', 'single', 'tap test/*.js']
  assert.deepEqual(textFindings(lines.join('\n')), [], 'without white space (step 5)')
  assert.deepEqual(textFindings([...lines, 'c++'].join('\n')), [], 'URL-decoded (step 5)')
  assert.deepEqual(textFindings(lines.join('\n').replaceAll('.', ' ')), [], 'without dots (step 5)')
  // Shaped like a Discord bot token (not a real one), cut by line breaks and spaces.
  const token = 'MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs'
  assert.deepEqual(textFindings(`token:\n${token.slice(0, 12)}\n${token.slice(12, 40)} ${token.slice(40)}`), ['Discord Bot Token/whitespace'])
  assert.deepEqual(textFindings(`${token.slice(0, 30)}\n${token.slice(30).replace('7', '%37')}+`).map((f) => f.split('/')[0]), ['Discord Bot Token'])
})

test('AWS Access ID across a cut: only sixteen base32 characters after the prefix, as issued, make a key', () => {
  // A user name and a hex id (a gist, a commit): `aidan` + `8e8f…` reads AIDA + sixteen letters and digits.
  for (const u of ['https://gist.github.com/aidan/8e8fa57c7ee1350e3491ab12cd34ef56', 'https://gist.github.com/anvaka/8e8fa57c7ee1350e3491', 'https://example.com/asia/8e8fa57c7ee1350e', 'https://example.com/u/aroa/5f2b9c0d1e3a4b6c7d8e9f00']) {
    assert.deepEqual(urlFindings(u), [], u)
  }
  assert.deepEqual(textFindings('gist by aidan 8e8fa57c7ee1350e3491'), [])
  // An issued key id cut the same ways is found; so is any key shape written whole.
  assert.deepEqual(urlFindings(`https://example.com/${KEY.slice(0, 4)}/${KEY.slice(4)}`), ['AWS Access ID/path_noise'])
  assert.deepEqual(urlFindings(`https://example.com/${KEY.slice(0, 4).toLowerCase()}/${KEY.slice(4).toLowerCase()}`), ['AWS Access ID/path_noise'])
  assert.deepEqual(textFindings(spaced(KEY, ' ')), ['AWS Access ID/whitespace'])
  assert.ok(textFindings('key AKIAZ7QW3ERT5YUI8OPL here').includes('AWS Access ID/'), 'whole, whatever its characters')
  // Documented limit: a made-up id with 0, 1, 8 or 9 in its body is not read across a cut.
  assert.deepEqual(textFindings(spaced('AKIAZ7QW3ERT5YUI8OPL', ' ')), [])
})

test('numbers across a dot: a decimal point does not join a number, dotted groups of three digits or more do', () => {
  // SVG path coordinates: without their dots `71.3-4.2-256.1` reads 713-42-2561 (a Social
  // Security Number) and `41.11-11.11-1.111-111.1` reads 4111-1111-1111-1111 (a card number).
  for (const t of ['<path d="M10 20l12.5-40.8-71.3-4.2-256.1-9.9z"/>', '<path d="M41.11-11.11-1.111-111.1z"/>', 'moved 71.3-4.2-256.1 px']) {
    assert.deepEqual(textFindings(t), [], t)
    assert.equal(bodyAction(JSON.stringify({messages: [{role: 'user', content: `Summarise this page:\n${t}`}]})), 'allow', t)
  }
  // A number written in dotted groups is still that number; written whole it is found as it stands.
  assert.deepEqual(textFindings('pay with 4111.1111.1111.1111 today'), ['Credit Card Number/subdomain'])
  assert.deepEqual(textFindings('card 3782.822463.10005 on file'), ['Credit Card Number/subdomain'])
  assert.deepEqual(textFindings('ssn 713-42-2561 here'), ['Social Security Number/'])
  // Only a dot is judged so: a number wrapped by a line break at any column is found.
  assert.deepEqual(textFindings('card 41\n11111111111111 x'), ['Credit Card Number/'])
  assert.deepEqual(textFindings('card 4111 1111 11\n11 1111 x'), ['Credit Card Number/'])
  assert.ok(textFindings('ssn 713-42-2561 at 71.3-4.2').includes('Social Security Number/'), 'a number written whole beside a decimal')
})
