/**
 * Canary tokens in the agent's environment (containment.md §5.3, on whenever a token names an
 * `env_var`): the value is planted in the environment of the process pipelock wraps or
 * sandboxes, where an agent looking for credentials finds it; any later appearance of it in
 * outbound traffic is a critical DLP block. The value always comes from the config — pipelock
 * never reads `env_var` from its own environment.
 */
import type {PipelockConfig} from './schema.js'

export interface CanaryEnvEntry {
  readonly name: string
  readonly envVar: string
  readonly value: string
}

export function canaryEnvEntries(c: Pick<PipelockConfig, 'canary_tokens'>): CanaryEnvEntry[] {
  return c.canary_tokens.tokens
    .filter((t) => (t.env_var ?? '').trim() !== '' && t.value.trim() !== '')
    .map((t) => ({name: t.name.trim(), envVar: (t.env_var ?? '').trim(), value: t.value.trim()}))
}

/**
 * Adds each canary to `env`, after the `--env` checks: never over a name the operator passed
 * explicitly (`explicit`), never as a name `refused` rejects (code loading, proxy routing, the
 * variables pipelock sets itself). Returns the names injected (the values are never printed).
 */
export function injectCanaryEnv(env: Record<string, string>, explicit: ReadonlySet<string>, entries: readonly CanaryEnvEntry[], refused: (name: string) => boolean): string[] {
  const injected: string[] = []
  for (const e of entries) {
    if (explicit.has(e.envVar) || refused(e.envVar)) continue
    env[e.envVar] = e.value
    injected.push(e.envVar)
  }
  return injected
}

/**
 * What the operator is told at launch about the canaries: the names planted; each canary not
 * planted because its name is one pipelock sets or refuses (said, never silently dropped); and,
 * with an external proxy (`--proxy`), that only that proxy's own config decides whether a
 * planted value is caught. Values are never printed.
 */
export function canaryLaunchLines(entries: readonly CanaryEnvEntry[], injected: readonly string[], explicit: readonly string[], externalProxy?: string): string[] {
  const out: string[] = []
  if (injected.length > 0) out.push(`pipelock: canary token(s) injected as ${injected.join(', ')}`)
  for (const e of entries) {
    if (injected.includes(e.envVar) || explicit.includes(e.envVar)) continue
    out.push(`pipelock: WARNING: canary "${e.name}" not planted: ${e.envVar} is a variable pipelock sets or refuses in the agent's environment; choose another env_var`)
  }
  if (externalProxy !== undefined && injected.length > 0) {
    out.push(`pipelock: WARNING: the agent's traffic goes through the proxy at ${externalProxy}: it blocks the planted canaries only if its own config lists the same canary_tokens`)
  }
  return out
}
