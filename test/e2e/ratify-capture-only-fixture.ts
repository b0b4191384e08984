import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {applyDecisions, deterministicKey, resignContract} from '../../src/plugins/learn/index.js'
import {repoPath} from '../helpers/vectors.js'

// A candidate where enforcing one path rule of a host and leaving another capture-only makes the
// second unreachable under a live contract (ratify warns), for the piped and the terminal tests.

/** The multi-hour golden's `/v2/reports` and `/v2/reports/summary` rules (api.example.com), signed with the deterministic compile key. */
export function twoPathRuleCandidate(dir: string): string {
  const golden = repoPath('goldens', 'multi-hour', 'contract.yaml')
  const env = loadContract(readFileSync(golden, 'utf8'), golden)
  const rules = env.body.get('rules') as JsonObject[]
  const two = applyDecisions(env.body, rules.map((_, i) => (i === 1 || i === 2 ? 'capture_only' : 'reject')))
  const c = path.join(dir, 'candidate.yaml')
  writeFileSync(c, resignContract(two.body, deterministicKey('compile'), 'test').yaml)
  return c
}

export const CAPTURE_ONLY_DENIED =
  "learn ratify: capture-only rule r-39df75f1cf877389a0b2 (any method api.example.com /v2/reports/summary) is not enforced, and host api.example.com has enforce rules: under a live contract its requests are denied by the host's default deny (contract_enforce_default); enforce it to keep them reachable"
