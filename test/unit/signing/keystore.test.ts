import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync, copyFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {
  agentPrivateKeyPath,
  decodePublicKeyText,
  generateAgentKeys,
  loadAgentPrivateKey,
  resolveKeystoreDir,
  trustAgentKey,
  validateAgentName,
  writeFileAtomic,
} from '../../../src/plugins/signing/index.js'
import {test1, TEST1_FP} from './test-keys.js'

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'pl-ks-'))
const mode = (p: string): number => statSync(p).mode & 0o777

test('keystore resolution: --keystore > --home > PIPELOCK_HOME > ~/.pipelock', () => {
  const env = {PIPELOCK_HOME: '/env/home'}
  assert.equal(resolveKeystoreDir({keystore: '/k', home: '/h', env, userHome: '/u'}), '/k')
  assert.equal(resolveKeystoreDir({home: '/h', env, userHome: '/u'}), '/h')
  assert.equal(resolveKeystoreDir({env, userHome: '/u'}), '/env/home')
  assert.equal(resolveKeystoreDir({env: {}, userHome: '/u'}), '/u/.pipelock')
})

test('agent names: exact refusal texts', () => {
  assert.throws(() => validateAgentName(''), {message: 'agent name cannot be empty'})
  assert.throws(() => validateAgentName('a..b'), {message: 'agent name "a..b" contains path traversal sequence'})
  assert.throws(() => validateAgentName('.'), {message: 'agent name "." is not allowed'})
  assert.throws(() => validateAgentName('a/b c'), {message: 'agent name "a/b c" contains invalid characters (use "a_b_c")'})
  const long = 'x'.repeat(70)
  // The reference's text stays; the hint names the length limit the name actually breaks.
  assert.throws(() => validateAgentName(long), {
    message: `agent name "${long}" contains invalid characters (use "${'x'.repeat(64)}")`,
    hint: 'agent names are at most 64 characters; this one has 70',
  })
  assert.throws(() => validateAgentName('x'.repeat(65)), {hint: 'agent names are at most 64 characters; this one has 65'})
  assert.throws(() => validateAgentName('a/b c'), (e: Error & {hint?: string}) => e.hint === undefined)
  for (const ok of ['a', 'A-b_c.d', 'x'.repeat(64)]) validateAgentName(ok)
})

test('keygen writes 0600 private, 0644 public in 0750 dirs; refuses to overwrite without force', () => {
  const ks = path.join(tmp(), 'ks')
  const r = generateAgentKeys(ks, 'bot', {keyPair: test1()})
  assert.equal(r.fingerprint, TEST1_FP)
  assert.equal(r.publicKeyPath, path.join(ks, 'agents', 'bot', 'id_ed25519.pub'))
  assert.equal(mode(r.privateKeyPath), 0o600)
  assert.equal(mode(r.publicKeyPath), 0o644)
  assert.equal(mode(path.join(ks, 'agents')), 0o750)
  assert.equal(mode(path.join(ks, 'agents', 'bot')), 0o750)
  assert.match(readFileSync(r.privateKeyPath, 'utf8'), /^pipelock-ed25519-private-v1\n[A-Za-z0-9+/]{86}==\n$/)
  assert.throws(() => generateAgentKeys(ks, 'bot'), {message: 'keys already exist for agent "bot" (use --force to overwrite)'})
  const again = generateAgentKeys(ks, 'bot', {force: true})
  assert.notEqual(again.fingerprint, TEST1_FP)
  const loaded = loadAgentPrivateKey(ks, 'bot')
  assert.equal(loaded.fingerprint, again.fingerprint)
})

test('keygen refuses an agents/ or agent directory that resolves outside the keystore', () => {
  const root = tmp()
  const ks = path.join(root, 'ks')
  const outside = path.join(root, 'outside')
  mkdirSync(ks)
  mkdirSync(outside)
  symlinkSync(outside, path.join(ks, 'agents'))
  assert.throws(() => generateAgentKeys(ks, 'bot'), /resolves outside keystore/)
  const ks2 = path.join(root, 'ks2')
  mkdirSync(path.join(ks2, 'agents'), {recursive: true})
  symlinkSync(outside, path.join(ks2, 'agents', 'bot'))
  assert.throws(() => generateAgentKeys(ks2, 'bot'), /agent directory .* resolves outside keystore/)
})

test('private key load: group/other bits refused with the chmod hint; 0640/0400 accepted', () => {
  const ks = path.join(tmp(), 'ks')
  generateAgentKeys(ks, 'bot', {keyPair: test1()})
  const p = agentPrivateKeyPath(ks, 'bot')
  for (const m of [0o640, 0o400, 0o440, 0o600]) {
    chmodSync(p, m)
    assert.equal(loadAgentPrivateKey(ks, 'bot').fingerprint, TEST1_FP)
  }
  for (const m of [0o644, 0o660, 0o601]) {
    chmodSync(p, m)
    const perm = m.toString(8).padStart(4, '0')
    assert.throws(() => loadAgentPrivateKey(ks, 'bot'), {
      message: `private key ${p} has permissions ${perm}, want 0600 or 0640 (run: chmod 640 ${p})`,
    })
  }
})

test('private key load: a symlink leaving the keystore fails containment; one inside is followed', () => {
  const root = tmp()
  const ks = path.join(root, 'ks')
  generateAgentKeys(ks, 'bot', {keyPair: test1()})
  const outsideKey = path.join(root, 'stolen')
  copyFileSync(agentPrivateKeyPath(ks, 'bot'), outsideKey)
  chmodSync(outsideKey, 0o600)
  mkdirSync(path.join(ks, 'agents', 'evil'), {recursive: true})
  symlinkSync(outsideKey, agentPrivateKeyPath(ks, 'evil'))
  assert.throws(() => loadAgentPrivateKey(ks, 'evil'), /^PipelockError: private key containment check: .* resolves outside keystore/)
  // Kubernetes-style: the key is a symlink to a file elsewhere inside the keystore.
  mkdirSync(path.join(ks, '..data'), {recursive: true})
  copyFileSync(agentPrivateKeyPath(ks, 'bot'), path.join(ks, '..data', 'id_ed25519'))
  chmodSync(path.join(ks, '..data', 'id_ed25519'), 0o600)
  mkdirSync(path.join(ks, 'agents', 'k8s'))
  symlinkSync(path.join(ks, '..data', 'id_ed25519'), agentPrivateKeyPath(ks, 'k8s'))
  assert.equal(loadAgentPrivateKey(ks, 'k8s').fingerprint, TEST1_FP)
  assert.throws(() => loadAgentPrivateKey(ks, '../bot'), /path traversal/)
})

test('trust copies a valid public key 0600 into trusted_keys/', () => {
  const ks = path.join(tmp(), 'ks')
  const r = generateAgentKeys(ks, 'peer', {keyPair: test1()})
  const t = trustAgentKey(ks, 'peer', r.publicKeyPath)
  assert.equal(t.path, path.join(ks, 'trusted_keys', 'peer.pub'))
  assert.equal(t.fingerprint, TEST1_FP)
  assert.equal(mode(t.path), 0o600)
  assert.equal(mode(path.join(ks, 'trusted_keys')), 0o750)
  assert.deepEqual(decodePublicKeyText(readFileSync(t.path, 'utf8')), test1().publicKey)
  assert.throws(() => trustAgentKey(ks, 'peer', r.publicKeyPath), /already exists \(use --force to overwrite\)/)
  const junk = path.join(ks, 'junk.pub')
  writeFileSync(junk, 'nope')
  assert.throws(() => trustAgentKey(ks, 'other', junk), {message: 'invalid public key format (expected pipelock-ed25519-public-v1 header)'})
})

test('writeFileAtomic replaces content and applies the mode regardless of umask', () => {
  const dir = tmp()
  const f = path.join(dir, 'x.json')
  writeFileAtomic(f, 'one', 0o644)
  writeFileAtomic(f, 'two', 0o600)
  assert.equal(readFileSync(f, 'utf8'), 'two')
  assert.equal(mode(f), 0o600)
  // a symlink at the target is replaced, not followed
  const victim = path.join(dir, 'victim')
  writeFileSync(victim, 'keep')
  const link = path.join(dir, 'link')
  symlinkSync(victim, link)
  writeFileAtomic(link, 'new')
  assert.equal(readFileSync(victim, 'utf8'), 'keep')
  assert.equal(readFileSync(link, 'utf8'), 'new')
})
