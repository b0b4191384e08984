import type {PipelockConfig} from '../config/index.js'
import {loadRuleBundles} from '../rules/index.js'

/**
 * What `pipelock run` says at start about community rule bundles (scanners-extra.md §5.5 step 7):
 * one line per loaded bundle, one warning per bundle that failed and therefore does not load, and
 * one per bundle that loaded from the copy an interrupted install left (`<name>.bak`).
 * Bundle errors never stop the proxy.
 */
export function ruleBundleLines(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, version: string): string[] {
  const r = loadRuleBundles(c.rules, {env, version})
  const out: string[] = []
  for (const b of r.bundles) out.push(`pipelock: rules: bundle ${b.name} v${b.version} (${b.tier}): ${b.dlp} DLP, ${b.injection} injection, ${b.toolPoison} tool-poison rules`)
  for (const e of r.errors) out.push(`pipelock: warning: bundle ${e.name}: ${e.reason}`)
  for (const w of r.warnings) out.push(`pipelock: warning: bundle ${w.name}: ${w.reason}`)
  return out
}
