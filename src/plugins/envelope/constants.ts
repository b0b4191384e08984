/** Mediation-envelope signature constants (spec §4.1). */
export const SIGNATURE_LABEL = 'pipelock1'
export const SIGNATURE_TAG = 'pipelock-mediation'
export const SIGNATURE_ALG = 'ed25519'
export const DEFAULT_KEY_ID = 'pipelock-mediation-v1'
export const SUPPORTED_COMPONENTS: ReadonlySet<string> = new Set(['@method', '@target-uri', '@authority', 'content-digest', 'pipelock-mediation'])
export const DEFAULT_COMPONENTS: readonly string[] = ['@method', '@target-uri', 'content-digest', 'pipelock-mediation']
export const DEFAULT_MAX_BODY_BYTES = 1_048_576
export const DEFAULT_SKEW_SECONDS = 60
export const DEFAULT_WINDOW_SECONDS = 300
export const DEFAULT_REPLAY_ENTRIES = 10_000
export const DEFAULT_TRUST_DOMAIN = 'pipelock.local'
export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory'
