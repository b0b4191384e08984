/**
 * A copy of `s` that does not point into the string it was cut from. Strings read from a large
 * text (the YAML reader's values) are V8 slices of it, and a slice keeps its parent alive: one
 * retained rule id would keep a whole 24 MB contract text. A JSON round trip allocates a fresh
 * string; below 13 characters V8 copies instead of slicing, so those are returned as they are.
 */
export function copyString(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string)
}
