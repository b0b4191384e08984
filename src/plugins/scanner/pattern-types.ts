/** Severity vocabulary of DLP patterns (runtime spec §9.1). */
export type Severity = 'critical' | 'high' | 'medium' | 'low'

/** Validators a DLP pattern may name (§9.2); unknown names are a config error. */
export type ValidatorName = 'luhn' | 'mod97' | 'aba' | 'wif'

/** One DLP pattern as data (config `dlp.patterns[]` maps onto this). */
export interface DlpPatternSpec {
  readonly name: string
  readonly severity: Severity
  readonly regex: string
  readonly validator?: ValidatorName
  /** Hostname rules (§5.17); the pattern is skipped for matching hosts. */
  readonly exemptDomains?: readonly string[]
  /** Only `warn` is allowed, and never on a built-in (§20.4). */
  readonly action?: 'warn'
}

/** One response (prompt-injection) pattern as data. */
export interface ResponsePatternSpec {
  readonly name: string
  readonly regex: string
}
