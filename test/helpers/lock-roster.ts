import assert from 'node:assert/strict'
import path from 'node:path'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The keys and roster of a learn-and-lock test lab, through the CLI: agents `ci-compile`,
 * `receipt-signing` and `ops-alice` in `ks`, a roster root key in `rootFile`, and a roster naming
 * them in `rosterFile`. Returns the root key's fingerprint (for `pinned_root_fingerprint`).
 */
export function buildLockRoster(pipelock: (args: string[]) => Run, ks: string, rootFile: string, rosterFile: string): string {
  const ok = (r: Run, what: string): Run => {
    assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stderr}`)
    return r
  }
  for (const id of ['ci-compile', 'receipt-signing', 'ops-alice']) ok(pipelock(['keygen', id, '--keystore', ks]), `keygen ${id}`)
  const kr = ok(pipelock(['signing', 'key', 'generate', '--purpose', 'roster-root', '--out', rootFile]), 'root key')
  const fp = (kr.stdout.split('\n')[2] ?? '').replace('  fingerprint: ', '')
  const pub = (id: string): string => path.join(ks, 'agents', id, 'id_ed25519.pub')
  const inc = [
    ['ci-compile', 'contract-compile-signing', ''],
    ['receipt-signing', 'receipt-signing', ''],
    ['ops-alice', 'contract-activation-signing', ',role=alice'],
  ].flatMap(([id, p, role]) => ['--include', `id=${id},key=${pub(id!)},purpose=${p}${role}`])
  ok(pipelock(['signing', 'roster', 'build', '--root', rootFile, ...inc, '--out', rosterFile]), 'roster build')
  return fp
}

/** The `learn_lock` section of a proxy config on a lab's store and pinned roster (environment `prod`). */
export function learnLockLines(store: string, roster: string, fp: string, mode = 'live'): string[] {
  return [
    'learn_lock:',
    '  enabled: true',
    `  mode: ${mode}`,
    `  store_dir: ${store}`,
    `  roster_path: ${roster}`,
    '  environment: {id: prod, tenant: "", deployment_id: ""}',
    `  pinned_root_fingerprint: ${fp}`,
  ]
}
