/**
 * `suppress` entries (operations.md §4.1), in list order, with the reference's messages. There is
 * no expiry key (§4.5): time-boxed waivers are scoped exceptions, not suppressions.
 */
import {goPathMatch} from '../canonical/index.js'
import {ConfigFieldError} from './problems.js'
import type {PipelockConfig} from './schema.js'

export function validateSuppress(c: PipelockConfig): void {
  c.suppress.forEach((e, i) => {
    if (e.rule === '') throw new ConfigFieldError(['suppress', i, 'rule'], `suppress entry ${i} missing required field "rule"`)
    if (e.path === '') throw new ConfigFieldError(['suppress', i, 'path'], `suppress entry ${i} (${e.rule}) missing required field "path"`)
    const p = e.path.replace(/\\/g, '/')
    if (/[*?[]/.test(p) && goPathMatch(p, '') === undefined) {
      throw new ConfigFieldError(['suppress', i, 'path'], `suppress entry ${i} (${e.rule}) has invalid path pattern "${e.path}": syntax error in pattern`)
    }
  })
}
