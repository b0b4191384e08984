import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {before} from 'node:test'
import {keyPairFromSeed, loadEd25519Arithmetic, sha256} from '../../../src/plugins/signing/index.js'
import {repoPath} from '../../helpers/vectors.js'

// What the differential tests of the streamed candidate commands (ratify, forget, split, pin:
// streamed path against whole path) read: the golden candidates and the key they are signed with.

/** The goldens' deterministic compile signer. */
export const GOLDEN_PAIR = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer'))
export const GOLDEN_KEY = GOLDEN_PAIR.publicKey.toString('hex')
/** Every golden corpus with a compiled contract. */
export const CORPORA = readdirSync(repoPath('goldens')).filter((c) => existsSync(repoPath('goldens', c, 'contract.yaml')))
/** The golden contract with collapsed path segments. */
export const COLLAPSING = repoPath('goldens', 'collapsing-paths', 'contract.yaml')

/**
 * `text` with one rule's confidence changed, at the same length: still in the streamed reader's
 * YAML subset, so only the check that every pass read the first pass's bytes can refuse it.
 */
export function changedCandidate(text: string): string {
  const changed = text.replace(/confidence: (\w)/, (_, c: string) => `confidence: ${c === 'x' ? 'y' : 'x'}`)
  if (changed.length !== text.length || changed === text) throw new Error('changedCandidate: no same-length change made')
  return changed
}

/** Loads the curve arithmetic before the file's tests, as the commands do: without it the streamed path is never taken. */
export function loadArithmeticFirst(): void {
  before(async () => {
    await loadEd25519Arithmetic()
  })
}

/**
 * A new temporary directory holding `candidate.yaml` (the collapsing golden: `text`), and a
 * `trace` hook that rewrites it as `changedCandidate` at the streamed step `when`. The caller removes `dir`.
 */
export function changingCandidate(prefix: string, when: string): {dir: string; candidate: string; text: string; trace: (step: string) => void} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  const candidate = path.join(dir, 'candidate.yaml')
  const text = readFileSync(COLLAPSING, 'utf8')
  writeFileSync(candidate, text)
  const changed = changedCandidate(text)
  return {dir, candidate, text, trace: (step) => {
    if (step === when) writeFileSync(candidate, changed)
  }}
}
