import {PipelockError} from '../errors/index.js'

const UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Go `time.ParseDuration` (e.g. `336h0m0s`, `90m`, `1.5h`), in milliseconds. */
export function parseGoDuration(text: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let s = text
  let sign = 1
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? -1 : 1
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') throw new PipelockError('USAGE', `invalid duration ${JSON.stringify(text)}`)
  let total = 0
  let pos = 0
  re.lastIndex = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (m === null) throw new PipelockError('USAGE', `invalid duration ${JSON.stringify(text)}`)
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    pos = re.lastIndex
  }
  return sign * total
}
