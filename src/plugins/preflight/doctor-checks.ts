/**
 * The checks `pipelock doctor` reports, in its order, and what each looks at: `doctor --help` is
 * written from this list (so its count cannot drift from what runs), and the checks runDoctor
 * makes are tested against it. `when` names the config switch a check runs under; the others
 * always run. Nothing is imported here: the command's help loads this without the checks' code.
 */
export interface DoctorCheckInfo {
  readonly name: string
  /** What the check looks at, as the help's list of checks says it. */
  readonly about: string
  readonly when?: string
}

export const DOCTOR_CHECKS: readonly DoctorCheckInfo[] = [
  {name: 'http_proxy', about: 'proxy listeners and enforce'},
  {name: 'tls_interception', about: 'TLS interception CA material'},
  {name: 'request_body_scanning', about: 'request body scanning'},
  {name: 'browser_shield', about: 'Browser Shield'},
  {name: 'mcp_wrapper_scanning', about: 'MCP wrapper-dependent features'},
  {name: 'mcp_binary_integrity', about: 'MCP binary integrity manifest'},
  {name: 'mcp_tool_provenance', about: 'tool provenance'},
  {name: 'file_sentry', about: 'file sentry watch paths'},
  {name: 'sentry', about: 'alerting'},
  {name: 'sandbox', when: 'sandbox.enabled', about: 'runs bubblewrap once to see which containment layers this host provides and names what a missing one leaves open'},
  {name: 'flight_recorder', when: 'flight_recorder.enabled', about: 'checks that the evidence directory can be written and that the signing key, if one is set, loads as pipelock run loads it'},
  {name: 'direct_egress_boundary', about: 'the direct-egress boundary'},
]

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen']

function countWord(n: number): string {
  return WORDS[n] ?? String(n)
}

/** `a, b, and c` (`a and b` for two). */
function series(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' and ')
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`
}

/** The help's sentence on the checks: how many always run and what they look at, then the switched ones. */
export function doctorChecksSentence(): string {
  const always = DOCTOR_CHECKS.filter((c) => c.when === undefined)
  const switched = DOCTOR_CHECKS.filter((c) => c.when !== undefined)
  const head = countWord(always.length)
  let text = `${head[0]!.toUpperCase()}${head.slice(1)} checks, offline (no network access): ${series(always.map((c) => c.about))}`
  if (switched.length > 0) {
    // each of these says a whole clause, so they are set apart by semicolons
    text += `; ${countWord(switched.length)} more when their feature is on: ${switched.map((c) => `${c.name} (with ${c.when}) ${c.about}`).join('; ')}`
  }
  return `${text}.`
}
