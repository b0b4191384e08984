/** The community rule bundle the rules e2e tests sign and install: one DLP rule for an Acme token. */
export function acmeBundle(version: string, regex = 'acme_tok_[0-9a-f]{16}'): string {
  return `format_version: 1
name: acme-rules
version: ${version}
author: Acme Security
description: Acme internal token formats
rules:
  - id: acme-token
    type: dlp
    status: stable
    name: Acme internal token
    description: An Acme service token
    severity: critical
    confidence: high
    pattern:
      regex: '${regex}'
`
}
