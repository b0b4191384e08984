/**
 * `pipelock session --api-url X list`: oclif finds a command only from the words before the
 * first flag, so flags given between a topic and its subcommand would show the topic's help.
 * This moves them after the subcommand (`session list --api-url X`) when the words around them
 * name a command of that topic; any other argv is returned unchanged.
 */
export interface ArgvCommand {
  id: string
  flags: Record<string, {type: string; char?: string}>
}

export function hoistTopicFlags(argv: readonly string[], commands: readonly ArgvCommand[]): string[] {
  const isFlag = (t: string): boolean => t.startsWith('-') && t !== '-' && t !== '--'
  const firstFlag = argv.findIndex(isFlag)
  if (firstFlag <= 0) return [...argv]
  const topic = argv.slice(0, firstFlag).join(':')
  const ids = new Set(commands.map((c) => c.id))
  if (ids.has(topic)) return [...argv]
  const members = commands.filter((c) => c.id.startsWith(topic + ':'))
  if (members.length === 0) return [...argv]
  const takesValue = (token: string): boolean => {
    if (token.includes('=')) return false
    for (const c of members) {
      for (const [name, f] of Object.entries(c.flags)) {
        if (token === `--${name}` || (f.char !== undefined && token === `-${f.char}`)) return f.type === 'option'
      }
    }
    return false
  }
  const moved: string[] = []
  let i = firstFlag
  while (i < argv.length && isFlag(argv[i]!)) {
    moved.push(argv[i]!)
    if (takesValue(argv[i]!) && i + 1 < argv.length) moved.push(argv[++i]!)
    i++
  }
  const sub = argv[i]
  if (sub === undefined || !ids.has(`${topic}:${sub}`)) return [...argv]
  return [...argv.slice(0, firstFlag), sub, ...moved, ...argv.slice(i + 1)]
}
