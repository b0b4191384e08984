/**
 * Provider profiles (envelope-redaction §17): built-ins for Anthropic, OpenAI and Gemini, custom
 * providers merged over them (same name replaces), and the label-only match. A provider only
 * names the parser (always the JSON walker) and labels receipts and metrics: no field is exempt.
 */
import type {RedactionSectionConfig} from '../config/index.js'

export interface Provider {
  readonly name: string
  readonly hostPatterns: readonly string[]
  readonly pathPrefixes: readonly string[]
}

export const GENERIC_PROVIDER = 'generic-json'

export const BUILTIN_PROVIDERS: readonly Provider[] = [
  {name: 'anthropic', hostPatterns: ['api.anthropic.com'], pathPrefixes: ['/v1/messages']},
  {name: 'openai', hostPatterns: ['api.openai.com'], pathPrefixes: ['/v1/chat/completions', '/v1/responses']},
  {
    name: 'gemini',
    hostPatterns: ['generativelanguage.googleapis.com', '*.generativelanguage.googleapis.com'],
    pathPrefixes: ['/v1/models/', '/v1beta/models/', '/v1alpha/models/'],
  },
]

export function providersOf(cfg: RedactionSectionConfig): Provider[] {
  const byName = new Map(BUILTIN_PROVIDERS.map((p) => [p.name, p]))
  for (const name of Object.keys(cfg.providers).sort()) {
    const p = cfg.providers[name]!
    byName.set(name, {name, hostPatterns: [...(p.host_patterns ?? [])], pathPrefixes: [...(p.path_prefixes ?? [])]})
  }
  return [...byName.values()]
}

/** Host lower-cased with the port stripped (a trailing dot is kept: R12). */
export function bareHost(host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end < 0 ? h : h.slice(1, end)
  }
  const colon = h.lastIndexOf(':')
  if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon)
  return h
}

/** A host against a bare entry or a leading `*.` wildcard (never the apex). */
export function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1))
  return host === pattern
}

/** §17.3: exact host > wildcard, then longer prefix, then longer pattern, then smaller name. */
export function matchProvider(providers: readonly Provider[], host: string, path: string): string {
  const h = bareHost(host)
  const p = path === '' ? '/' : path
  let best: {name: string; exact: boolean; prefix: number; pattern: number} | null = null
  for (const prov of providers) {
    for (const pat of prov.hostPatterns) {
      if (!hostMatches(h, pat)) continue
      const exact = !pat.startsWith('*.')
      const prefixes = prov.pathPrefixes.length === 0 ? [''] : prov.pathPrefixes.filter((x) => p.startsWith(x))
      for (const pre of prefixes) {
        const cand = {name: prov.name, exact, prefix: pre.length, pattern: pat.length}
        if (best === null || better(cand, best)) best = cand
      }
    }
  }
  return best === null ? GENERIC_PROVIDER : best.name
}

function better(a: {name: string; exact: boolean; prefix: number; pattern: number}, b: typeof a): boolean {
  if (a.exact !== b.exact) return a.exact
  if (a.prefix !== b.prefix) return a.prefix > b.prefix
  if (a.pattern !== b.pattern) return a.pattern > b.pattern
  return a.name < b.name
}
