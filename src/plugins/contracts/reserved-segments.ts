// learn-compile §15.4: the built-in reserved path segments (27, compared byte for byte with the
// already-canonical segment). Compile never collapses a position where one was observed (operators
// may add words through reserved_segments_extra, never remove these); the contract evaluator never
// reads a collapsed `*` as one of them. A fact of the contract format, so both engines share it.

export const RESERVED_SEGMENTS: readonly string[] = [
  'admin', 'auth', 'login', 'oauth', 'token', 'billing', 'settings', 'users', 'me', 'orgs', 'sso', 'saml', 'mfa', 'kms',
  'vault', 'secret', 'key', 'password', 'payment', 'refund', 'transfer', 'withdraw', 'ssh', 'ssl', 'cert', 'ca', 'auth0',
]
