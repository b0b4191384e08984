/**
 * The body of `dlp.secrets_file` (runtime §5.9): one secret per line, `#` comments and blank
 * lines skipped, a UTF-8 BOM stripped on line 1, duplicates read once. Read by config validation
 * (what `check` and `run` report) and by the scanner (what it looks for), with the same rules.
 *
 * What the reference leaves out without a word, this reading says: a line shorter than
 * `dlp.min_env_secret_length` or longer than 4,096 bytes is not looked for (a warning naming its
 * line, never its content), and a file of more than 1,000 secrets is refused, as the reference
 * reads only the first 1,000 and the rest would pass unseen (docs/compatibility.md).
 */

/** At most this many secrets are looked for (runtime §5.9). */
export const SECRETS_FILE_MAX = 1000

/** A line longer than this many UTF-8 bytes is not a secret (runtime §5.9). */
const LINE_MAX_BYTES = 4096

export interface ParsedSecretsFile {
  /** The secrets, in file order, each once; at most SECRETS_FILE_MAX. */
  readonly secrets: string[]
  /** Line numbers of entries shorter than the minimum (never their content). */
  readonly tooShortLines: number[]
  /** Line numbers of entries over 4,096 bytes. */
  readonly tooLongLines: number[]
  /** How many distinct secrets the file holds in all (more than `secrets` when over the cap). */
  readonly total: number
}

export function parseSecretsFile(text: string, minLength: number): ParsedSecretsFile {
  const seen = new Set<string>()
  const secrets: string[] = []
  const tooShortLines: number[] = []
  const tooLongLines: number[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1)
    if (line.endsWith('\r')) line = line.slice(0, -1)
    const t = line.trim()
    if (t === '' || t.startsWith('#')) continue
    const bytes = Buffer.byteLength(t, 'utf8')
    if (bytes > LINE_MAX_BYTES) {
      tooLongLines.push(i + 1)
      continue
    }
    if (bytes < minLength) {
      tooShortLines.push(i + 1)
      continue
    }
    if (seen.has(t)) continue
    seen.add(t)
    if (secrets.length < SECRETS_FILE_MAX) secrets.push(t)
  }
  return {secrets, tooShortLines, tooLongLines, total: seen.size}
}

/** Why a secrets file of `total` distinct secrets is refused (validation and the scanner's loader say the same). */
export function overCapReason(file: string, total: number): string {
  return `${file} holds ${total} secrets; at most ${SECRETS_FILE_MAX} are looked for`
}

/** The lines `ns` as words: `line 3`, `lines 3, 7 and 9`, `lines 3, 7, 9 and 12 more`. */
export function lineList(ns: readonly number[]): string {
  if (ns.length === 1) return `line ${ns[0]}`
  const shown = ns.slice(0, 3)
  const rest = ns.length - shown.length
  return rest > 0 ? `lines ${shown.join(', ')} and ${rest} more` : `lines ${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`
}
