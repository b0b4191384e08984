import {goPathMatch, goTrimSpace} from '../canonical/index.js'

export {goPathMatch}

// §7.5 contract selection: exact agent (priority 3) > agent_glob with Go `path.Match` (2) >
// default (1); ties go to the earliest selector. Malformed globs never match.

export interface SelectorEntry {
  agent?: string
  agent_glob?: string
  default?: boolean
}


/** Index of the winning selector for `agent`, or -1 when none matches. */
export function selectContract(selectors: readonly SelectorEntry[], agentIn: string): number {
  const agent = goTrimSpace(agentIn)
  let best = -1
  let bestPriority = 0
  selectors.forEach((s, i) => {
    let priority = 0
    if (s.agent !== undefined && s.agent !== '') priority = s.agent === agent ? 3 : 0
    else if (s.agent_glob !== undefined && s.agent_glob !== '') priority = goPathMatch(s.agent_glob, agent) === true ? 2 : 0
    else if (s.default === true) priority = 1
    if (priority > bestPriority) {
      best = i
      bestPriority = priority
    }
  })
  return best
}
