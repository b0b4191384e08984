import {existsSync, readFileSync} from 'node:fs'
import type {JsonObject} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {decodeStoreContract} from './artifacts.js'
import {objectPath, storeLayout} from './paths.js'

// What a contract about to be activated actually locks. A contract whose rules are all
// capture_only (a compiled candidate nobody ratified) claims no jurisdiction at run time
// (learn-lifecycle §7: no enforce HTTP rule → the scanner verdict alone): activated, it leaves
// the agent reaching any host. The reference activates it silently; we refuse it unless the
// operator says so (--allow-unenforced), and then say it loudly.

export interface EnforcementCoverage {
  /** Rules with lifecycle_state "enforce". */
  enforced: number
  /** Every rule of the contract. */
  total: number
}

export function enforcementCoverage(body: JsonObject): EnforcementCoverage {
  const rules = (body.get('rules') as JsonObject[] | undefined) ?? []
  return {enforced: rules.filter((r) => r.get('lifecycle_state') === 'enforce').length, total: rules.length}
}

/** Coverage of a contract already in <store>/history/, or undefined when it is not there (the swap reports that). */
export function historyCoverage(root: string, contractHash: string): EnforcementCoverage | undefined {
  let file: string
  try {
    file = objectPath(storeLayout(root).history, contractHash, '.yaml')
  } catch {
    return undefined
  }
  if (!existsSync(file)) return undefined
  try {
    return enforcementCoverage(decodeStoreContract(readFileSync(file), file).body)
  } catch {
    return undefined // a corrupt history contract is refused, with its own error, by the swap checks
  }
}

/** The one sentence both the refusal and the warning use. */
export function unenforcedSentence(contractHash: string, c: EnforcementCoverage): string {
  return `contract ${contractHash} enforces 0 of its ${c.total} rules (none is ratified to enforce): the agent is not locked (any host the scanner allows stays reachable)`
}

export function assertEnforces(verb: 'learn promote' | 'learn rollback', contractHash: string, c: EnforcementCoverage | undefined, allowUnenforced: boolean): void {
  if (c === undefined || c.enforced > 0 || allowUnenforced) return
  throw new PipelockError('LIFECYCLE_REFUSED', `${verb}: refusing to activate an unenforced contract: ${unenforcedSentence(contractHash, c)}`, {
    hint: 'ratify its rules first (pipelock learn ratify), or pass --allow-unenforced to activate it for observation only',
  })
}
