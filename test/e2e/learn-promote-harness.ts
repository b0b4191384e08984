import {spawn, spawnSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {emitSignedYaml, goJson, JsonNumber, type JsonObject, type JsonValue} from '../../src/plugins/canonical/index.js'
import {contractHash, loadContract, signCanonical, signTombstone, tombstoneBody} from '../../src/plugins/contracts/index.js'
import {fileTombstone, type FiledTombstone} from '../../src/plugins/store/index.js'
import {loadRoster} from '../../src/plugins/signing/index.js'
import {systemClock} from '../../src/plugins/canonical/index.js'
import {
  fingerprint,
  formatSignature,
  generateAgentKeys,
  generateKeyPair,
  rosterSigningBytes,
  signBytes,
  type Ed25519KeyPair,
  type KeyInfo,
} from '../../src/plugins/signing/index.js'
import {repoPath} from '../helpers/vectors.js'

// A throw-away deployment for promote/rollback tests: a keystore with compile, receipt and
// activation keys, a roster signed by an in-memory root (so tests can add revoked/expired keys),
// signed candidate contracts derived from the multi-session golden, and a store directory.

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export interface Lab {
  dir: string
  ks: string
  store: string
  roster: string
  fp: string
  keys: Map<string, Ed25519KeyPair>
  rosterKeys: KeyInfo[]
}

export const ACTIVATION_KEYS: Record<string, string> = {'ops-alice': 'alice', 'ops-bob': 'bob', 'ops-carol': 'carol', 'ops-alice-2': 'alice'}

export function entry(keyId: string, purpose: string, kp: Ed25519KeyPair, extra: Partial<KeyInfo> = {}): KeyInfo {
  return {
    keyId,
    keyPurpose: purpose,
    publicKeyHex: kp.publicKey.toString('hex'),
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: null,
    status: 'active',
    principal: '',
    ...extra,
  }
}

/** Writes a roster signed by `root`; returns its pinned fingerprint. */
export function writeRoster(file: string, root: Ed25519KeyPair, keys: KeyInfo[]): string {
  const body = {schemaVersion: 1, rosterSignedBy: 'roster-root', keys: [entry('roster-root', 'roster-root', root, {status: 'root', principal: 'root'}), ...keys], dataClassRoot: 'internal'}
  const sig = formatSignature(signBytes(root, rosterSigningBytes(body)))
  const tree = new Map<string, JsonValue>([
    ['body', JSON.parse(rosterSigningBytes(body).toString()) as never],
    ['signature', sig],
  ])
  writeFileSync(file, JSON.stringify(Object.fromEntries(tree), null, 2) + '\n', {mode: 0o600})
  return fingerprint(root.publicKey)
}

export function makeLab(): Lab {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-promote-'))
  const ks = path.join(dir, 'ks')
  const keys = new Map<string, Ed25519KeyPair>()
  for (const id of ['ci-compile', 'receipt-signing', 'ratifier-alice', 'ops-alice', 'ops-alice-2', 'ops-bob', 'ops-carol', 'ops-mallory', 'ops-revoked', 'ops-expired', 'ops-nobody']) {
    const kp = generateKeyPair()
    generateAgentKeys(ks, id, {keyPair: kp})
    keys.set(id, kp)
  }
  const k = (id: string): Ed25519KeyPair => keys.get(id) as Ed25519KeyPair
  const rosterKeys = [
    entry('ci-compile', 'contract-compile-signing', k('ci-compile')),
    entry('receipt-signing', 'receipt-signing', k('receipt-signing')),
    // A person's ratification key: receipt-signing purpose (the authority matrix), with a principal.
    entry('ratifier-alice', 'receipt-signing', k('ratifier-alice'), {principal: 'alice'}),
    ...Object.entries(ACTIVATION_KEYS).map(([id, p]) => entry(id, 'contract-activation-signing', k(id), {principal: p})),
    entry('ops-revoked', 'contract-activation-signing', k('ops-revoked'), {principal: 'dave', status: 'revoked'}),
    entry('ops-expired', 'contract-activation-signing', k('ops-expired'), {principal: 'erin', validUntil: '2026-02-01T00:00:00Z'}),
    entry('ops-nobody', 'contract-activation-signing', k('ops-nobody')),
  ]
  const roster = path.join(dir, 'roster.json')
  const root = generateKeyPair()
  keys.set('roster-root', root)
  const fp = writeRoster(roster, root, rosterKeys)
  const store = path.join(dir, 'store')
  return {dir, ks, store, roster, fp, keys, rosterKeys}
}

/** A signed contract derived from the multi-session golden; `variant` changes its hash. */
/** `pick`, when given, chooses the golden's rules to keep by id (in its order) instead of the first `3 + variant`. */
/**
 * `lifecycle`: every rule's `lifecycle_state` ('enforce'), or per rule id (a rule it does not name
 * keeps the golden's `capture_only`).
 */
export function writeCandidate(lab: Lab, name: string, variant: number, signer = 'ci-compile', lifecycle?: 'enforce' | Readonly<Record<string, string>>, host?: string, pick?: readonly string[]): {file: string; hash: string} {
  const golden = loadContract(readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8'), 'contract.yaml')
  const body: JsonObject = new Map(golden.body)
  // `host` moves every rule to that host (for tests that need a reachable contracted destination).
  const onHost = (r: JsonObject): JsonObject => {
    if (host === undefined) return r
    const sel = new Map(r.get('selector') as JsonObject)
    sel.set('host', new Map(sel.get('host') as JsonObject).set('value', host))
    return new Map(r).set('selector', sel)
  }
  const all = body.get('rules') as JsonObject[]
  const kept = pick === undefined ? all.slice(0, 3 + variant) : all.filter((r) => pick.includes(r.get('rule_id') as string))
  const state = (r: JsonObject): string | undefined => (typeof lifecycle === 'object' ? lifecycle[r.get('rule_id') as string] : lifecycle)
  const rules = kept.map(onHost).map((r) => {
    const s = state(r)
    return s === undefined ? r : new Map(r).set('lifecycle_state', s)
  })
  body.set('rules', rules)
  body.set('signer_key_id', signer)
  body.set('contract_hash', contractHash(body))
  const signature = signCanonical(body, lab.keys.get(signer) as Ed25519KeyPair)
  const file = path.join(lab.dir, `${name}.yaml`)
  writeFileSync(file, emitSignedYaml(new Map<string, JsonValue>([['body', body], ['signature', signature]])))
  return {file, hash: body.get('contract_hash') as string}
}

export function cli(args: string[]): Run {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

export function cliAsync(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), ...args], {env: {...process.env, NO_COLOR: '1'}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

export function baseArgs(lab: Lab, activation = 'ops-alice'): string[] {
  return ['--contract-store', lab.store, '--roster', lab.roster, '--roster-root-fingerprint', lab.fp, '--activation-key', activation, '--keystore', lab.ks]
}

/** Fixture candidates keep the golden's capture_only rules unless asked otherwise, so promote is told to accept them. */
export function promoteArgs(lab: Lab, candidate: string, extra: string[] = []): string[] {
  return ['learn', 'promote', ...baseArgs(lab), '--candidate', candidate, '--selector', 'shop-agent', '--allow-unenforced', ...extra]
}

/** Every file and symlink under `dir`, by relative path (symlinks as `-> target`). */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!existsSync(dir)) return out
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name)
      const st = lstatSync(p)
      const rel = path.relative(dir, p)
      if (st.isSymbolicLink()) out.set(rel, `-> ${readlinkSync(p)}`)
      else if (st.isDirectory()) {
        out.set(rel + '/', `dir ${(st.mode & 0o777).toString(8)}`)
        walk(p)
      } else out.set(rel, readFileSync(p).toString('base64'))
    }
  }
  walk(dir)
  return out
}

export function jsonl(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

export {mkdirSync, JsonNumber, goJson}

/** A tombstone for `hash` signed by activation key `signer`, as forget writes it (YAML). */
export function tombstoneYaml(lab: Lab, hash: string, signer = 'ops-bob'): string {
  const body = tombstoneBody({priorContractHash: hash, redactedAt: '2026-11-01T00:00:00Z', authorizationId: 'auth-1', signerKeyId: signer})
  const env = signTombstone(body, lab.keys.get(signer) as Ed25519KeyPair)
  return emitSignedYaml(env.tree)
}

export function fileTomb(lab: Lab, file: string): FiledTombstone {
  return fileTombstone(lab.store, readFileSync(file), {roster: loadRoster(lab.roster, lab.fp), nowNanos: systemClock.nowNanos()})
}
