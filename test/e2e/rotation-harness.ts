// Receipt-key rotation tests' shared set-up: signing keys derived from fixed seeds (the same
// keys on every run), their key files, and a `pipelock run` config whose flight recorder signs
// with one of them.
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {baseConfig} from './proxy-harness.js'

type KeyPair = ReturnType<typeof keyPairFromSeed>

/** One key pair per name, seeded by SHA-256 of `prefix + name`. */
export function seededKeys<K extends string>(prefix: string, names: readonly K[]): Record<K, KeyPair> {
  return Object.fromEntries(names.map((n) => [n, keyPairFromSeed(createHash('sha256').update(prefix + n).digest())])) as Record<K, KeyPair>
}

/** Writes each key's private key file (0600) and public key file. */
export function writeKeyFiles<K extends string>(keys: Record<K, KeyPair>, keyFile: (k: K) => string, pubFile: (k: K) => string): void {
  for (const k of Object.keys(keys) as K[]) {
    writeFileSync(keyFile(k), encodePrivateKeyText(goPrivateKey(keys[k])), {mode: 0o600})
    writeFileSync(pubFile(k), encodePublicKeyText(keys[k].publicKey))
  }
}

/** A forward proxy that lets the loopback upstream through, its flight recorder in `evidence` signed with `signingKeyPath`; `extra` lines go under `flight_recorder:`. */
export function recorderConfig(evidence: string, signingKeyPath: string, extra: readonly string[] = []): string {
  return baseConfig(
    ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(evidence)}`, `  signing_key_path: ${JSON.stringify(signingKeyPath)}`, ...extra].join('\n'),
  )
}
