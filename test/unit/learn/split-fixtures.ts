// A bare-body candidate in the layout the reference's split/pin were written for (§4.3).
export const BARE = `# hand-edited candidate
rules:
  - rule_id: r-users
    selector:
      paths:
        - value: /repos/*/*   # collapsed twice
          normalization:
            algorithm: frequency_weighted_entropy_v1
            collapsed_segments:
              - {index: 2, distinct_values: 87, event_count: 412, reason: high_entropy_identifier_segment}
              - {index: 3, distinct_values: 9, event_count: 412, reason: high_entropy_identifier_segment}
            retained_segments:
              - {index: 1, value: repos, reason: low_entropy_literal_segment}
            pinned_segments:
              - {value: existing-pin, reason: operator_pin}
        - value: /plain
  - rule_id: r-other
    selector: {}
`
