/**
 * `suppress` entries (operations.md §4.1), in list order, with the reference's messages. There is
 * no expiry key (§4.5): time-boxed waivers are scoped exceptions, not suppressions.
 */
import {goPathMatch} from '../canonical/index.js'
import {ConfigFieldError, type ConfigWarning} from './problems.js'
import type {PipelockConfig} from './schema.js'

/**
 * A glob that no URL target can match under operations §4.2 (its `*` never crosses `/`, basename
 * and suffix tests need no `/`, the substring rule needs a `.` or `://`): `*\/inject` against
 * `http://h/inject`. It could only match the host+path fallback target, so it is named at start.
 */
function neverMatchesUrl(path: string): boolean {
  if (!/[*?[]/.test(path) || path.endsWith('/') || path.includes('://') || path.includes('.')) return false
  const slashes = path.split('/').length - 1
  return slashes > 0 && slashes < 3 // a full URL has at least three: scheme://host/path
}

export function validateSuppress(c: PipelockConfig, warnings: ConfigWarning[] = []): void {
  c.suppress.forEach((e, i) => {
    if (e.rule === '') throw new ConfigFieldError(['suppress', i, 'rule'], `suppress entry ${i} missing required field "rule"`)
    if (e.path === '') throw new ConfigFieldError(['suppress', i, 'path'], `suppress entry ${i} (${e.rule}) missing required field "path"`)
    const p = e.path.replace(/\\/g, '/')
    if (/[*?[]/.test(p) && goPathMatch(p, '') === undefined) {
      throw new ConfigFieldError(['suppress', i, 'path'], `suppress entry ${i} (${e.rule}) has invalid path pattern "${e.path}": syntax error in pattern`)
    }
    if (neverMatchesUrl(p)) {
      const last = p.slice(p.lastIndexOf('/') + 1)
      warnings.push({field: `suppress[${i}].path`, message: `"${e.path}" matches no URL: "*" does not cross "/", and a pattern without "." or "://" is not tried as a URL substring; write "*://*/${last}" (any host) or "${last}" (any URL ending in /${last})`})
    }
  })
}
