/**
 * A value as one word of a POSIX shell command line, for hints and notes that tell the user a
 * command to run: a path with a space (or any character the shell treats specially) would
 * otherwise split or expand when the line is copied. Plain values stay as they are.
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : shellQuote(s)
}

/** Always single-quoted (`'` → `'"'"'`): for generated scripts, where the form never varies. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`
}
