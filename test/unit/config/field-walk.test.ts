/**
 * No config field is accepted and silently ignored (issue 38): every leaf of the config schema
 * must be read somewhere in src/ outside the config plugin (which parses, defaults, validates and
 * hashes every field, so it proves nothing), or be on the commented allow-list below. The check
 * is static: a field counts as read when a source file names its leaf as a property (`.leaf`,
 * `leaf:`, `'leaf'`) and — when another schema field has the same leaf name — also names the
 * section that holds it (the field's parent), so `browser_shield.exempt_domains` is not
 * satisfied by some other section's `exempt_domains`.
 *
 * A new field therefore needs a reader, a refusal, or an entry here with its reason.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {test} from 'node:test'
import {z} from 'zod'
import {configSchemas, defaultConfig} from '../../../src/plugins/config/index.js'
import {repoPath} from '../../helpers/vectors.js'

/** Dotted leaf paths of the schema; `[]` stands for an array element, `*` for a map value. */
function leaves(s: z.ZodType, pre: string[], out: string[][]): string[][] {
  if (s instanceof z.ZodOptional) return leaves(s.unwrap() as z.ZodType, pre, out)
  if (s instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) leaves(v, [...pre, k], out)
    return out
  }
  if (s instanceof z.ZodArray && s.element instanceof z.ZodObject) return leaves(s.element as z.ZodType, [...pre, '[]'], out)
  if (s instanceof z.ZodRecord && !(s.valueType instanceof z.ZodString || s.valueType instanceof z.ZodNumber || s.valueType instanceof z.ZodArray)) {
    return leaves(s.valueType as z.ZodType, [...pre, '*'], out)
  }
  out.push(pre)
  return out
}

/** The code of a file without its comments: a comment that names a field does not read it. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1')
}

function sources(dir: string, out: Array<{file: string; text: string}> = []): Array<{file: string; text: string}> {
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) sources(p, out)
    else if (e.name.endsWith('.ts')) out.push({file: path.relative(repoPath(), p), text: withoutComments(readFileSync(p, 'utf8'))})
  }
  return out
}

const CONFIG_DIR = path.join('src', 'plugins', 'config') + path.sep
/**
 * Files of the config plugin that apply fields rather than check them: an agent profile's
 * fields are read by the merge that lays them over the base config (the merged base fields are
 * walked in their own right).
 */
const CONFIG_READERS = new Set([
  path.join('src', 'plugins', 'config', 'agent-profiles.ts'),
  path.join('src', 'plugins', 'config', 'canary-env.ts'),
  // The section switches `assertImplemented` reads: a section refused by name is not ignored.
  path.join('src', 'plugins', 'config', 'features.ts'),
  // Runtime settings of the scan API and DNS overrides, built from the config for the proxy.
  path.join('src', 'plugins', 'config', 'extra-sections.ts'),
  // The redaction section's loader (it reads `entries_file`, which the reference never loads).
  path.join('src', 'plugins', 'config', 'redaction-config.ts'),
  // The mediation_envelope section read into the envelope's signer and verifier settings.
  path.join('src', 'plugins', 'config', 'envelope-settings.ts'),
])

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Fields no code path reads, each with its reason. Keep this list short: an entry is either a
 * field the reference also accepts and ignores (documented in docs/config.md), or a field of a
 * section that refuses to start when it is turned on.
 */
const UNREAD_ALLOWED: Readonly<Record<string, string>> = {
  // --- Sections refused at start by features.ts with no work in progress.
  'sentry.sample_rate': 'sentry: refused at start by features.ts (enabled with a dsn)',
  'mcp_tool_provenance.trusted_issuers': 'mcp_tool_provenance: refused at start by features.ts',
  'mcp_tool_provenance.trusted_subjects': 'mcp_tool_provenance: refused at start by features.ts',
  'mcp_tool_provenance.offline_only': 'mcp_tool_provenance: refused at start by features.ts',
  'behavioral_baseline.learning_window': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.deviation_action': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.profile_dir': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.auto_ratify': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.sensitivity_sigma': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.lock_dimensions': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.poison_resistance': 'behavioral_baseline: refused at start by features.ts',
  'behavioral_baseline.seasonality_mode': 'behavioral_baseline: refused at start by features.ts',
  // Used only by the tool-policy redirect action, which refuses to start (assertNoRedirect).

  // --- Applied inside the config plugin itself (the walk does not look there).
  'response_scanning.include_defaults': 'the response-pattern merge at load (config/apply-defaults.ts)',
  'websocket_proxy.strip_compression': 'validation requires true (validate.ts): compression is always stripped',

  // --- Accepted and ignored, as in the reference, and documented in docs/config.md ("Accepted
  // and ignored fields").
  'airlock.triggers.on_severity': 'runtime.md §15: validated, inert; a start-up warning says so when set',
  'airlock.triggers.anomaly_count': 'runtime.md §15: validated, inert; a start-up warning says so when set',
  'airlock.triggers.anomaly_window_minutes': 'runtime.md §15: validated, inert (the window of anomaly_count)',
  'airlock.tool_freeze.snapshot_on_entry': 'operations.md §12 #9 / mcp.md: the tool freeze is MCP-stdio only and not ported',
  'airlock.tool_freeze.allow_cached_tools': 'operations.md §12 #9 / mcp.md: the tool freeze is MCP-stdio only and not ported',
  'git_protection.blocked_commands': 'containment.md §4.2: validated, inert (the spec gives it no semantics); a start-up warning says so when set, and audit score gives it no point',
}

/** Every walked path, and those no reader names (allow-listed or not). */
function walk(): {paths: string[]; unread: string[]} {
  const files = sources(repoPath('src')).filter((f) => !f.file.startsWith(CONFIG_DIR) || CONFIG_READERS.has(f.file))
  const paths = leaves(configSchemas().config as z.ZodType, [], []).map((p) => p.join('.'))
  const leafCount = new Map<string, number>()
  for (const p of paths) leafCount.set(p.split('.').at(-1)!, (leafCount.get(p.split('.').at(-1)!) ?? 0) + 1)
  const unread: string[] = []
  for (const dotted of paths) {
    const segs = dotted.split('.').filter((s) => s !== '[]' && s !== '*')
    const leaf = segs.at(-1)!
    const parent = segs.length > 1 ? segs.at(-2)! : undefined
    const leafRe = new RegExp(`(?:\\.|\\?\\.)${esc(leaf)}\\b|\\b${esc(leaf)}\\??\\s*:|['"\`]${esc(leaf)}['"\`]|[{,]\\s*${esc(leaf)}\\s*[,}]`)
    const parentRe = parent === undefined || leafCount.get(leaf) === 1 ? null : new RegExp(`\\b${esc(parent)}\\b`)
    const read = files.some((f) => leafRe.test(f.text) && (parentRe === null || parentRe.test(f.text)))
    if (!read) unread.push(dotted)
  }
  return {paths, unread}
}

test('every config field is read by some code path, or allow-listed with a reason', () => {
  const {paths, unread: all} = walk()
  assert.ok(paths.length > 300, `only ${paths.length} leaves walked`)
  const unread = all.filter((p) => UNREAD_ALLOWED[p] === undefined)
  assert.deepEqual(unread, [], `fields no code path outside src/plugins/config reads (implement, refuse, or allow-list with a reason):\n${unread.join('\n')}`)
})

test('the allow-list names only schema fields, and none that some code now reads', () => {
  const paths = new Set(leaves(configSchemas().config as z.ZodType, [], []).map((p) => p.join('.')))
  for (const k of Object.keys(UNREAD_ALLOWED)) assert.ok(paths.has(k), `allow-listed ${k} is not a schema field`)
  const {unread} = walk()
  const stale = Object.keys(UNREAD_ALLOWED).filter((k) => !unread.includes(k))
  assert.deepEqual(stale, [], `allow-listed fields some code now reads (remove them from UNREAD_ALLOWED):\n${stale.join('\n')}`)
})

test('the walk sees the defaults tree: every default leaf is a walked path', () => {
  const paths = new Set(leaves(configSchemas().config as z.ZodType, [], []).map((p) => p.join('.')))
  const walk = (v: unknown, pre: string[]): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && pre[0] !== 'agents') {
      const entries = Object.entries(v as Record<string, unknown>)
      const map = pre.length > 0 && ['redirect_profiles', 'tool_categories', 'pattern_overrides', 'headers', 'cost_multipliers'].includes(pre.at(-1)!)
      if (!map) {
        for (const [k, x] of entries) walk(x, [...pre, k])
        return
      }
    }
    if (pre[0] === 'agents') return
    const d = pre.join('.')
    assert.ok(paths.has(d) || [...paths].some((p) => p.startsWith(d + '.')), `default leaf ${d} not walked`)
  }
  walk(defaultConfig(), [])
})
