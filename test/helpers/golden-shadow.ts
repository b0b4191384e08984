import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {applyDecisions, deterministicKey, resignContract} from '../../src/plugins/learn/index.js'
import {repoPath} from './vectors.js'

/**
 * A deterministic ratification of a golden candidate. `all`: every rule enforce (what
 * `learn ratify --accept-low-confidence --deterministic` writes). `strict`: host-wide rules (no
 * path constraint) rejected, every other rule enforce — what an operator answering `r` to the
 * host-wide rules gets; traffic that no path rule covers (the `_other` tail of a capped host) is
 * then default-denied and shows up as new blocks. Collapsed `*` segments match any one segment.
 */
export function ratifiedGoldenBody(corpus: string, mode: 'all' | 'strict'): ReturnType<typeof resignContract> {
  const file = repoPath('goldens', corpus, 'contract.yaml')
  const env = loadContract(readFileSync(file, 'utf8'), file)
  const rules = env.body.get('rules') as Map<string, unknown>[]
  const hasPaths = (r: Map<string, unknown>): boolean => (r.get('selector') as Map<string, unknown>).has('paths')
  const applied = applyDecisions(env.body, rules.map((r) => (mode === 'all' || hasPaths(r) ? 'enforce' : 'reject')))
  return resignContract(applied.body, deterministicKey('ratifyCompile'), 'learn ratify')
}

/** Every `.jsonl` file under `root`, in name order (callers sort them into chain order). */
export function listJsonl(root: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(root).sort()) {
    const p = path.join(root, name)
    if (statSync(p).isDirectory()) out.push(...listJsonl(p))
    else if (name.endsWith('.jsonl')) out.push(p)
  }
  return out
}
