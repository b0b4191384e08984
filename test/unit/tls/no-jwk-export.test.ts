/**
 * No source file exports a KeyObject as JWK (`export({format: 'jwk'})`).
 *
 * Node 20's JWK export holds the key's mutex while it allocates strings; a GC in that allocation
 * can run the destructor of the KeyGenJob that made the key, which takes the same mutex, and the
 * main thread waits on itself for ever (issue 16, round 5: it hung `certificates.test` and a CI
 * run; a proxy minting leaves could freeze the same way). The hang is rare and heavy-tailed (a
 * loop of keygen + JWK export hung after < 500 keys once, after 4,500 once, not in 200,000 once),
 * so no runtime test catches its return reliably; this guard does. Leaf keys come from
 * `createECDH` (tls/leaf.ts `newLeafKey`); importing a JWK (`createPrivateKey({format: 'jwk'})`)
 * is a different call and is not matched.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const SRC = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../src')
const JWK_EXPORT = /\.export\(\s*\{[^}]*format\s*:\s*['"`]jwk['"`]/

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  )
}

test('the guard matches the deadlocking call and nothing else', () => {
  assert.match("const jwk = privateKey.export({format: 'jwk'})", JWK_EXPORT)
  assert.match('k.export({ type: undefined, format: "jwk" })', JWK_EXPORT)
  assert.doesNotMatch("createPrivateKey({format: 'jwk', key})", JWK_EXPORT)
  assert.doesNotMatch("privateKey.export({type: 'pkcs8', format: 'pem'})", JWK_EXPORT)
})

test('no source file exports a KeyObject as JWK (node 20 main-thread deadlock)', () => {
  const files = sources(SRC)
  assert.ok(files.length > 100, `read ${files.length} source files under ${SRC}`)
  const offenders = files.filter((f) => JWK_EXPORT.test(readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f))
  assert.deepEqual(offenders, [])
})
