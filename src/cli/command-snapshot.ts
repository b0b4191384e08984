import {Config} from '@oclif/core'

export interface CommandShape {
  summary: string
  examples: number
  args: Record<string, {required: boolean}>
  flags: Record<string, {type: string; required: boolean; multiple: boolean; char?: string; default?: unknown}>
}

/**
 * The CLI surface as data: every command's flags and args (the way Salesforce plugins check a
 * snapshot in), so a renamed or removed flag is a visible change in review.
 */
export async function commandSnapshot(root: string): Promise<Record<string, CommandShape>> {
  const config = await Config.load(root)
  const out: Record<string, CommandShape> = {}
  for (const c of [...config.commands].filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))) {
    const flags: CommandShape['flags'] = {}
    for (const name of Object.keys(c.flags).sort()) {
      const f = c.flags[name] as {type: string; required?: boolean; multiple?: boolean; char?: string; default?: unknown}
      flags[name] = {type: f.type, required: Boolean(f.required), multiple: Boolean(f.multiple)}
      if (f.char) flags[name].char = f.char
      if (f.default !== undefined && typeof f.default !== 'function') flags[name].default = f.default
    }
    const args: CommandShape['args'] = {}
    for (const [name, a] of Object.entries(c.args ?? {})) args[name] = {required: Boolean((a as {required?: boolean}).required)}
    out[c.id.replaceAll(':', ' ')] = {summary: c.summary ?? c.description?.split('\n')[0] ?? '', examples: (c.examples ?? []).length, args, flags}
  }
  return out
}
