import type {DlpPatternSpec, ResponsePatternSpec} from '../scanner/index.js'
import {BundleError} from './bundle.js'
import {activeRules, bundleDirs, interruptedNote, readInstalled, resolveRulesDir, type BundleDir, type RulesSettings, type SignerTier} from './store.js'

// Startup and every reload (scanners-extra.md §5.5–5.6): the verified bundles of `rules_dir`,
// filtered and converted into the scanners' pattern specs, appended after the built-in and user
// patterns. A bundle that fails any check is reported and never loads; bundle errors never
// abort startup. A bundle that a crash left only as `<name>.bak` loads from there and is reported
// (warnings) until a rules command puts it back (see bundleDirs for why it is not skipped).

export interface ToolPoisonRule {
  name: string
  regex: string
  scanField: 'description' | 'name'
}

export interface LoadedBundleInfo {
  name: string
  version: string
  tier: SignerTier | 'unsigned'
  dlp: number
  injection: number
  toolPoison: number
}

export interface LoadedRules {
  dlp: DlpPatternSpec[]
  response: ResponsePatternSpec[]
  toolPoison: ToolPoisonRule[]
  bundles: LoadedBundleInfo[]
  /** Bundles that did not load. */
  errors: {name: string; reason: string}[]
  /** Bundles that loaded but need the operator's attention (read from `<name>.bak`). */
  warnings: {name: string; reason: string}[]
}

export function loadRuleBundles(s: RulesSettings, opts: {version?: string; env?: Readonly<Record<string, string | undefined>>; keyring?: readonly string[]} = {}): LoadedRules {
  const out: LoadedRules = {dlp: [], response: [], toolPoison: [], bundles: [], errors: [], warnings: []}
  const dir = resolveRulesDir(s.rules_dir, opts.env)
  if (dir === undefined) return out
  let dirs: BundleDir[]
  try {
    dirs = bundleDirs(dir)
  } catch (e) {
    out.errors.push({name: dir, reason: (e as Error).message})
    return out
  }
  for (const d of dirs) {
    if (d.interrupted) out.warnings.push({name: d.name, reason: interruptedNote(d.name)})
    let b
    try {
      b = readInstalled(d.dir, {trusted: s.trusted_keys, ...(opts.version === undefined ? {} : {version: opts.version}), ...(opts.keyring === undefined ? {} : {keyring: opts.keyring})})
    } catch (e) {
      if (!(e instanceof BundleError)) throw e
      out.errors.push({name: d.name, reason: e.message})
      continue
    }
    const info: LoadedBundleInfo = {name: b.bundle.name, version: b.bundle.version, tier: b.signer?.tier ?? 'unsigned', dlp: 0, injection: 0, toolPoison: 0}
    for (const r of activeRules(b.bundle, s)) {
      const name = `${b.bundle.name}:${r.id}`
      if (r.type === 'dlp') {
        out.dlp.push({name, regex: r.pattern.regex, severity: r.severity})
        info.dlp++
      } else if (r.type === 'injection') {
        out.response.push({name, regex: r.pattern.regex})
        info.injection++
      } else {
        out.toolPoison.push({name, regex: `(?i)${r.pattern.regex}`, scanField: r.pattern.scanField ?? 'description'})
        info.toolPoison++
      }
    }
    out.bundles.push(info)
  }
  return out
}
