import {PipelockError} from '../errors/index.js'
import {writeFileAtomic, type StreamedText} from '../signing/index.js'
import type {LifecycleEnv} from './candidate-env.js'
import type {StreamStep} from './candidate-stream.js'
import type {CandidateLayout} from './split-edit.js'

// What `learn split` and `learn pin` share, whichever way the candidate is read: the whole path
// (split-service.ts) and the streamed one (rule-edit-stream.ts).

/** Flags split and pin share (§4.3, §4.4, plus the keys the §10.5 envelope support needs). */
export interface CandidateEditRequest {
  candidate: string
  rule: string
  out?: string
  keystore: string
  compileKeyAgent?: string
  contractKey?: string
  env: LifecycleEnv
  /** Tests: false takes the whole path (the two paths are compared). */
  stream?: boolean
  /** Tests: told each step the run takes (which path, and the end of each streamed pass). */
  trace?: (step: StreamStep) => void
}

export interface CandidateEditResult {
  candidate: string
  dest: string
  rule: string
  layout: CandidateLayout
  changed: number
  /** The new contract hash when a signed envelope was re-signed. */
  contractHash?: string
}

/** Writes the edited (or unchanged) candidate to `dest`; a refusal of a streamed `data` is its own. */
export function writeEdited(dest: string, data: string | StreamedText, prefix: string): void {
  try {
    writeFileAtomic(dest, data, 0o600)
  } catch (e) {
    if (e instanceof PipelockError) throw e
    throw new PipelockError('WRITE_FAILED', `${prefix}: write ${dest}: ${(e as Error).message}`)
  }
}
