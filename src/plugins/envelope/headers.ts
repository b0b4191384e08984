/** Header access over Node-style header records (lower-case names; a value or a list of lines). */
export type HeaderRecord = Record<string, string | string[] | undefined>

export function headerLines(h: HeaderRecord, name: string): string[] {
  const v = h[name]
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}
