/**
 * What a suppressor is, as data: the proxy's suppressors (suppression.ts) are closures that also
 * count and audit, so a pool thread cannot call them. Each is registered here with the entries
 * and target it matches, which the thread's copy of the verdict needs (scan-offload/jobs.ts). A
 * suppressor not registered here keeps its scan on the event loop.
 */
import type {Suppressor} from '../../scanner/index.js'
import type {SuppressionScope} from './jobs.js'

const SCOPES = new WeakMap<Suppressor, SuppressionScope>()

/** Registers `suppress` as deciding by `scope` (its answer for a name is `suppressedBy(scope.entries, name, scope.target) >= 0`). */
export function describeSuppressor(suppress: Suppressor, scope: SuppressionScope): Suppressor {
  SCOPES.set(suppress, scope)
  return suppress
}

/** The scope `suppress` was registered with, if any. */
export function suppressionScopeOf(suppress: Suppressor): SuppressionScope | undefined {
  return SCOPES.get(suppress)
}
