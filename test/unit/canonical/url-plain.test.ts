import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canonicalizePath, goToLowerBytes, parseHttpUrl, PathCanonicalError, plainUrlHostPath} from '../../../src/plugins/canonical/index.js'
import {prng} from '../../helpers/prng.js'

// compile's URL lookup reads the host and path of a plain URL off its text (plainUrlHostPath):
// wherever it answers, the answer must be the general path's (parseHttpUrl, lower-cased hostname,
// canonicalizePath of the escaped path), and it must answer for the URLs agents mostly fetch.

function general(raw: string): readonly [string, string] | 'url' | 'path' {
  const u = parseHttpUrl(raw)
  if (u === undefined) return 'url'
  try {
    return [goToLowerBytes(u.hostname), canonicalizePath(u.escapedPath === '' ? '/' : u.escapedPath)]
  } catch (e) {
    if (e instanceof PathCanonicalError) return 'path'
    throw e
  }
}

const HOSTILE = [
  'https://api.example.com', 'https://api.example.com/', 'https://api.example.com/v1/Users/ABC/', 'http://h:8080/a', 'http://h:/a',
  'https://h?x=1', 'https://h/p?', 'https://h/p??', 'https://h/p?a#b', 'https://h/p#', 'https://h/a/./b', 'https://h/a/../b',
  'https://h/.well-known/x', 'https://h/a/.', 'https://h/a/..', 'https://h//a', 'https://h/a//', 'https://h/a%2Fb', 'https://h/%41',
  'HTTPS://h/a', 'https://H/a', 'https://u@h/a', 'https://[::1]/a', 'https://h:1:2/a', 'https://h:x/a', 'ftp://h/a', 'https:/h/a',
  'https://-/a', 'https://./a', 'https://a..b/c', 'https://h./a', 'https://h/a b', 'https://h/a?b c', 'https://h/a\tb', 'https://h/a?\u0085',
  'https://h/~user/a_b-c.d', 'https://h/' + 'a'.repeat(2047), 'https://h/' + 'a'.repeat(2046) + '/', 'https://h/' + 'a'.repeat(2048),
  'https://h/é', 'https://h/a;b', 'https://h/a:b', 'https://h/a@b', 'https://h/a+b', 'https://h/a!b', 'https://', 'https:///a', '',
]

test('plainUrlHostPath answers as the general parse does, on hostile URLs', () => {
  let answered = 0
  for (const raw of HOSTILE) {
    const fast = plainUrlHostPath(raw)
    if (fast === undefined) continue
    answered++
    assert.deepEqual(fast, general(raw), raw)
  }
  assert.ok(answered >= 12, `answered ${answered}`)
})

test('plainUrlHostPath answers as the general parse does, on random URLs over an edge alphabet', () => {
  const rnd = prng(36)
  const pick = (s: string): string => s[Math.floor(rnd() * s.length)] as string
  const hostChars = 'ab0-.:9Z_'
  const pathChars = 'aZ09-._~/%2F?#;: '
  let answered = 0
  for (let i = 0; i < 50_000; i++) {
    let host = ''
    for (let n = Math.floor(rnd() * 6); n >= 0; n--) host += pick(hostChars)
    let rest = ''
    for (let n = Math.floor(rnd() * 14); n > 0; n--) rest += pick(pathChars)
    const raw = (rnd() < 0.5 ? 'https://' : 'http://') + host + (rnd() < 0.8 ? '/' : '') + rest
    const fast = plainUrlHostPath(raw)
    if (fast === undefined) continue
    answered++
    assert.deepEqual(fast, general(raw), raw)
  }
  assert.ok(answered > 3_000, `answered ${answered}`)
})

test('plainUrlHostPath answers for every URL of the realistic benchmark corpus, as the general parse does', async () => {
  const {mkdtempSync, readFileSync, rmSync} = await import('node:fs')
  const {tmpdir} = await import('node:os')
  const path = await import('node:path')
  const {fleetShape, generateCorpus} = await import('../../../bench/corpus-generator.js')
  const {captureFiles} = await import('../../../bench/capture-files.js')
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-url-plain-'))
  try {
    generateCorpus(dir, {seed: 5, agent: 'a', sessions: 4, events: 20_000, start: '2026-05-01T00:00:00Z', spanSeconds: 3600, shape: fleetShape()})
    const urls = new Set<string>()
    for (const f of captureFiles(dir)) for (const m of readFileSync(f, 'utf8').matchAll(/"url":"([^"]*)"/g)) urls.add(m[1] as string)
    assert.ok(urls.size > 5_000, `${urls.size} urls`)
    for (const raw of urls) assert.deepEqual(plainUrlHostPath(raw), general(raw), raw)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
