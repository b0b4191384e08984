import type {ContractDecision} from '../../src/plugins/enforcement/index.js'

/** A decision, or the error it threw (differential tests compare both ways of deciding). */
export function decisionOrError(f: () => ContractDecision): ContractDecision | {error: string} {
  try {
    return f()
  } catch (e) {
    return {error: (e as Error).message}
  }
}
