import type {TreePath} from './yaml-source.js'

/** A non-fatal finding, printed by `pipelock run` as `WARNING: <field>: <message>`. */
export interface ConfigWarning {
  readonly field: string
  readonly message: string
}

/** A fatal finding about one field; the loader turns it into a CONFIG_INVALID PipelockError with a line. */
export class ConfigFieldError extends Error {
  /**
   * `linePath`: where in the file the problem is, when the message names a shorter `path` (the
   * redaction section's messages keep the reference's `redaction: redact: …` form).
   * `suggestion`: for an unknown key, the dotted path it was most likely meant to have.
   */
  constructor(
    readonly path: TreePath,
    readonly detail: string,
    readonly linePath: TreePath = path,
    readonly suggestion?: string,
  ) {
    super(`${dotted(path)}: ${detail}`)
    this.name = 'ConfigFieldError'
  }
}

/** `a.b[2].c` */
export function dotted(path: TreePath): string {
  let out = ''
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`
    else out += out === '' ? step : `.${step}`
  }
  return out === '' ? '(top level)' : out
}

export function formatWarning(w: ConfigWarning): string {
  return `WARNING: ${w.field}: ${w.message}`
}
