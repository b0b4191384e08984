/** Severity vocabulary of DLP patterns (runtime spec §9.1). */
export type Severity = 'critical' | 'high' | 'medium' | 'low'

/** Validators a DLP pattern may name (§9.2); unknown names are a config error. */
export type ValidatorName = 'luhn' | 'mod97' | 'aba' | 'wif'

/**
 * What a compiled pattern checks its regex hits with: a validator a config may name, or a check
 * no config names, which a built-in regex carries wherever the pattern comes from
 * (`dlp-patterns.ts`): `aws_key_id` and `databricks_token`, a token in one case.
 */
export type HitCheck = ValidatorName | OneCaseCheck

/** The built-in patterns whose tokens are written in one case (`validators.ts`, `validateOneCase`). */
export type OneCaseCheck = 'aws_key_id' | 'databricks_token'

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
