/**
 * The one registry of expected failures. Each code is stable: scripts and docs rely on it.
 * `exit` is the process exit status the CLI uses for the code. The reference CLI exits 1 for
 * every expected failure of the commands ported so far (learn-lifecycle §9.1); 2 is kept for
 * usage and configuration errors, as the global codes there define. Usage errors exit 2 in
 * every command (the reference's session/adaptive commands do; its learn and signing commands
 * exit 1: a documented divergence, docs/compatibility.md), so a script can tell "called wrong"
 * from "failed".
 */
export const ERROR_REGISTRY = {
  // --- generic input / usage
  USAGE: {exit: 2, summary: 'wrong arguments or flags, in every command; an argument given to a command that takes none (`check pipelock.yaml`) is one too; the value of an argument too many is never shown, nor that of an unknown flag (`Nonexistent flag: --api-tokn (did you mean --api-token?)` for `--api-tokn=…`); an unknown long flag near one of the command\'s own names it'},
  COMMAND_NOT_FOUND: {exit: 127, summary: 'no such command (also for `--help` of one, and `help <it>`); the message names the command words typed, never the arguments after them, and the closest command, or why a reference command (`license …`) has no counterpart'},
  FILE_NOT_FOUND: {exit: 1, summary: 'an input file does not exist'},
  FILE_UNREADABLE: {exit: 1, summary: 'an input file cannot be read'},
  FILE_TOO_LARGE: {exit: 1, summary: 'an input file is larger than the command reads (the message names the size and the limit: 16 MiB for one receipt of `verify-receipt`); it was not read'},
  FILE_EXISTS: {exit: 1, summary: 'an output file exists and --force was not given'},
  PATH_NOT_ABSOLUTE: {exit: 1, summary: 'a path that must be absolute is relative'},
  PATH_UNSAFE: {exit: 1, summary: 'a path resolves outside where it must stay, or is a symlink; or an input file is a FIFO, socket or device (refused before it is opened, which could block)'},
  JSON_INVALID: {exit: 1, summary: 'input is not valid (strict) JSON'},
  LINE_TOO_LONG: {exit: 1, summary: 'a line of a JSONL file or of `mcp scan` input exceeds the size limit'},
  YAML_INVALID: {exit: 1, summary: 'input is not acceptable strict YAML'},
  CANONICAL_INVALID: {exit: 1, summary: 'a value cannot be canonicalised (float, bad key, …)'},
  WRITE_FAILED: {exit: 1, summary: 'an output file could not be written'},
  FILE_LOCKED: {exit: 1, summary: 'another pipelock process held the lock on a file being updated for too long (the message names the lock file)'},
  // --- keys and signing
  KEY_INVALID: {exit: 1, summary: 'a key or key file is malformed'},
  KEY_PERMISSIONS: {exit: 1, summary: 'a private key file is group-writable or open to others (0600 and 0640 pass; the TLS CA key may not be executable either)'},
  KEY_PURPOSE_INVALID: {exit: 1, summary: 'unknown key purpose, or a key used for the wrong purpose'},
  KEY_EXISTS: {exit: 1, summary: 'keys already exist for an agent'},
  AGENT_NAME_INVALID: {exit: 1, summary: 'an agent name is empty, traverses paths or has invalid characters'},
  FINGERPRINT_INVALID: {exit: 1, summary: 'a fingerprint is malformed or does not match'},
  ROSTER_INVALID: {exit: 1, summary: 'a key roster fails to load or verify'},
  ROSTER_BUILD_REFUSED: {exit: 1, summary: 'signing roster build refused its inputs'},
  KEY_NOT_AUTHORIZED: {exit: 1, summary: 'a key is not in the roster, not active, or not allowed to sign this'},
  RECOVERY_INVALID: {exit: 1, summary: 'a recovery authorisation is malformed, outside its window, or does not verify'},
  TRANSITION_INVALID: {exit: 1, summary: 'a root transition document is malformed or does not verify'},
  // --- receipts
  RECEIPT_PARSE: {exit: 1, summary: 'a receipt does not parse (JSON, shape, timestamp)'},
  RECEIPT_INVALID: {exit: 1, summary: 'reserved, not raised: a receipt that fails validation is a result of `verify-receipt` and `transcript-root` (`FAILED` / `CHAIN BROKEN`, `valid: false`, exit 1), not this error'},
  RECEIPT_SIGNATURE_INVALID: {exit: 1, summary: 'reserved, not raised: a receipt signature that does not verify is a result of `verify-receipt` and `transcript-root` (`FAILED` / `CHAIN BROKEN`, `valid: false`, exit 1), not this error'},
  RECEIPT_KEY_MISMATCH: {exit: 1, summary: 'a receipt is signed by a key other than the pinned one'},
  CHAIN_BROKEN: {exit: 1, summary: 'reserved, not raised: a receipt chain that fails verification is a result of `verify-receipt` and `transcript-root` (`CHAIN BROKEN`, `valid: false`, exit 1) and of `audit packet` (verdict `invalid`), not this error'},
  CHAIN_EMPTY: {exit: 1, summary: '`signing rotation endorse` found no receipts to hand over; `transcript-root` found no chained receipt to state a root over (`no receipts found in FILE [CHAIN_EMPTY]`, its result `valid: false`); a verifier reports an empty chain in its result (verdict `empty`, exit 1)'},
  RECORDER_ENTRY_INVALID: {exit: 1, summary: 'a flight-recorder line is not a valid entry'},
  ESCROW_DECRYPT_FAILED: {exit: 1, summary: 'a raw-escrow sidecar does not decrypt: wrong key, corrupted or truncated file'},
  RULES_BUNDLE_INVALID: {exit: 1, summary: 'a community rule bundle fails to parse, validate or verify; it is never loaded'},
  RULES_LOCKED: {exit: 1, summary: 'another rules command holds the rules directory lock'},
  RULES_FETCH_FAILED: {exit: 1, summary: 'a remote rule bundle or its signature could not be fetched over HTTPS (not HTTPS, redirect off HTTPS, status, size, network)'},
  RECORDER_LOCKED: {exit: 1, summary: 'another running process writes the same flight-recorder chain'},
  ENDORSEMENT_INVALID: {exit: 1, summary: 'a rotation endorsement is malformed or does not verify'},
  EVIDENCE_INVALID: {exit: 1, summary: 'an EvidenceReceipt v2 fails validation or verification'},
  // --- features
  NOT_IMPLEMENTED: {exit: 1, summary: 'the config enables a feature this command does not implement, or `response_scanning.action: ask` with no operator channel; `tls install-ca --apply` on a platform it cannot apply to; refusing to run'},
  FEATURE_LOAD_FAILED: {exit: 1, summary: 'the code of a feature the config enables could not be loaded; refusing to start'},
  CONFIG_INVALID: {exit: 2, summary: 'the configuration is invalid'},
  LISTEN_FAILED: {exit: 1, summary: 'a listener could not bind its address (in use, not permitted); the message names the listener and the address'},
  // --- event emission (operations.md §3)
  EMIT_SINK_FAILED: {exit: 1, summary: 'an event emission sink (syslog) could not be created at start-up'},
  // --- capture and learn compile
  CAPTURE_LINE_INVALID: {exit: 1, summary: 'a capture (recorder JSONL) line is not a valid entry'},
  CAPTURE_CHAIN_BROKEN: {exit: 1, summary: 'a capture file fails hash-chain verification'},
  CAPTURE_AGENT_MISMATCH: {exit: 1, summary: 'a capture record belongs to another agent than the one compiled'},
  CAPTURE_NO_INPUT: {exit: 1, summary: 'no capture files matched the inputs'},
  CAPTURE_DIR_UNUSABLE: {exit: 1, summary: 'the capture directory cannot be used at start (a file, not a directory, or not writable)'},
  COMPILE_NO_EVENTS: {exit: 1, summary: 'the capture corpus holds no usable HTTP events'},
  COMPILE_FAILED: {exit: 1, summary: 'learn compile could not build or sign the contract'},
  CONTRACT_INVALID: {exit: 1, summary: 'a contract or compile manifest fails strict loading or validation'},
  CONTRACT_SIGNATURE_INVALID: {exit: 1, summary: 'a contract or compile manifest signature does not verify'},
  // --- learn lifecycle: shadow, ratify, forget, split, pin; the contract evaluator
  CANDIDATE_INVALID: {exit: 1, summary: 'a candidate contract file is unusable (path, YAML, envelope, no rules)'},
  RULE_NOT_FOUND: {exit: 1, summary: 'a rule id or collapsed segment named on the command line is not in the candidate'},
  LOW_CONFIDENCE_REFUSED: {exit: 1, summary: 'ratify refused low-confidence rules without --accept-low-confidence'},
  RATIFY_INTERRUPTED: {exit: 130, summary: 'learn ratify was stopped at the prompt (Ctrl-C); nothing was written'},
  RATIFY_DECISION_INVALID: {exit: 1, summary: 'an interactive ratify answer is not e, c or r, or every rule was rejected'},
  SEGMENT_INVALID: {exit: 1, summary: 'a path segment literal for split or pin is empty or has forbidden characters'},
  SHADOW_EMPTY: {exit: 1, summary: 'learn shadow replayed no record (pass --allow-empty to accept that)'},
  SHADOW_INPUT_INVALID: {exit: 1, summary: 'learn shadow or diff refused its inputs (flags, sessions, reports)'},
  CONTRACT_EVALUATION_FAILED: {exit: 1, summary: 'the contract evaluator could not decide (invalid mode, lifecycle or request)'},
  CONTRACT_RUNTIME_FAILED: {exit: 1, summary: 'learn_lock could not load the contract store at start-up (roster, active manifest, environment)'},
  MCP_INTEGRITY_FAILED: {exit: 1, summary: 'mcp proxy / mcp integrity manifest: the MCP server binary or script does not match its pinned manifest, or the manifest or its signature cannot be used (mcp.md §12)'},
  CONTRACT_UPSTREAM_DENIED: {exit: 1, summary: 'mcp proxy: the contract in force denies the MCP upstream URL at start-up (mcp.md §15.3)'},
  // --- contract store, promote and rollback (learn-lifecycle §5, §6)
  STORE_INVALID: {exit: 1, summary: 'the contract store is malformed (directory, active.json, decode, structure, write-once conflict)'},
  STORE_LOCKED: {exit: 1, summary: 'another process holds the contract store lock for too long'},
  STORE_REPLAY: {exit: 1, summary: 'active.json or a candidate manifest is older than the highest accepted generation'},
  STORE_CAS_MISMATCH: {exit: 1, summary: 'a manifest is not monotonic or does not extend the current manifest (prior hash)'},
  STORE_ENVIRONMENT_MISMATCH: {exit: 1, summary: 'a manifest is bound to another environment tuple'},
  STORE_SIGNATURE_INVALID: {exit: 1, summary: 'a manifest, contract or tombstone signature does not verify against the roster'},
  STORE_DUAL_CONTROL: {exit: 1, summary: 'a manifest lacks the required number of distinct activation principals, or a `--production` activation lacks `--dual-control-from` or a roster of three active operator principals'},
  STORE_HISTORY_INVALID: {exit: 1, summary: 'a referenced contract or accepted manifest is missing, malformed or discontinuous'},
  STORE_TOMBSTONED: {exit: 1, summary: 'a contract is tombstoned and cannot be promoted again'},
  STORE_TOMBSTONE_INVALID: {exit: 1, summary: 'a tombstone in the store does not parse or verify (fails closed)'},
  LIFECYCLE_REFUSED: {exit: 1, summary: 'learn promote/rollback refused its inputs (flags, environment, signers)'},
  STORE_POLICY_REFUSED: {exit: 1, summary: "an activation is weaker than the contract store's policy (too few principals, or an un-ratified contract in a ratified-only store)"},
  // --- session admin CLI (runtime §13): 2 = fix the invocation, token or config; 1 = the server or network failed
  ADMIN_API_UNCONFIGURED: {exit: 2, summary: 'no admin API URL or token from flags, environment or config file'},
  ADMIN_API_CONFIG_INVALID: {exit: 2, summary: 'the config file for the admin API is missing, invalid, or group/other accessible while holding the token'},
  ADMIN_ARGUMENT_INVALID: {exit: 2, summary: 'a session key or admin API URL given to session/adaptive commands is invalid'},
  ADMIN_API_UNAUTHORIZED: {exit: 2, summary: 'the admin API rejected the token (HTTP 401)'},
  ADMIN_API_BAD_REQUEST: {exit: 2, summary: 'the admin API refused the request as invalid (HTTP 400)'},
  SESSION_RELEASE_REFUSED: {exit: 2, summary: 'session release would raise the airlock tier; release only lowers it'},
  SESSION_HELD_BY_ADDRESS: {exit: 2, summary: 'session release changed nothing: another session holding the client address refuses the session (an unbound identity); release that session instead'},
  SESSION_NOT_FOUND: {exit: 1, summary: 'the admin API has no session with that key (HTTP 404 `session not found`)'},
  ADMIN_API_NOT_ENABLED: {exit: 1, summary: 'the proxy at that URL has no admin API (HTTP 404 on an API path): pipelock run mounts it only when kill_switch.api_token is set at start-up'},
  ADMIN_API_RATE_LIMITED: {exit: 1, summary: 'the admin API rate-limited the action (HTTP 429); retry after the given seconds'},
  ADMIN_API_HTTP_ERROR: {exit: 1, summary: 'the admin API answered 5xx or another unexpected status'},
  ADMIN_API_UNREACHABLE: {exit: 1, summary: 'the admin API could not be reached or did not answer within 10 s'},
  ADMIN_API_RESPONSE_INVALID: {exit: 1, summary: 'the admin API answered 2xx with a body that is not the documented JSON shape'},
  // --- scoped exceptions (issue 14, operations.md §8.3 [beyond])
  APPROVAL_NOT_FOUND: {exit: 1, summary: 'the admin API holds no request with that approval id (never held, answered already, or timed out)'},
  EXCEPTION_NOT_FOUND: {exit: 1, summary: 'the admin API has no exception in force with that id (never granted, revoked, used up or expired)'},
  EXCEPTION_STATE_INVALID: {exit: 1, summary: 'the exceptions file in flight_recorder.dir cannot be read; pipelock run refuses to start rather than drop grants'},
  // --- MCP proxy and scan (mcp.md §2.8, §13)
  MCP_SERVER_START_FAILED: {exit: 1, summary: 'the wrapped MCP server could not be started'},
  MCP_SUBPROCESS_EXITED: {exit: 10, summary: 'the wrapped MCP server exited non-zero or was killed by a signal'},
  MCP_UPSTREAM_FAILED: {exit: 1, summary: 'mcp proxy --upstream http(s)://…: a message could not be delivered to the remote MCP server, at start or mid-session: it was unreachable (connection refused or reset, DNS, TLS) or refused the POST at the HTTP level (a status of 400 or more, a redirect); each such request was answered -32003 at the time, and the run ends with this once the client is gone'},
  MCP_STREAM_FAILED: {exit: 1, summary: 'an MCP message stream failed (a line over 10 MiB, a read error); the session was ended'},
  MCP_INJECTION_FOUND: {exit: 1, summary: 'mcp scan found prompt injection in the scanned server output'},
  MCP_SCAN_INCOMPLETE: {exit: 1, summary: 'mcp scan found nothing in what it scanned, but some input lines were not valid JSON-RPC (the `[ERROR]` lines) and were not scanned: a corrupt transcript does not pass'},
  // --- TLS interception (transports.md §2)
  TLS_CA_EXISTS: {exit: 1, summary: 'tls init found an existing CA certificate or key and --force was not given'},
  TLS_CA_NOT_FOUND: {exit: 1, summary: 'the interception CA certificate or key file does not exist (run pipelock tls init)'},
  TLS_CA_INVALID: {exit: 1, summary: 'the interception CA cannot be generated, written or loaded (not a CA, key mismatch, unreadable PEM, key too permissive)'},
  // --- process containment (containment.md §2): pipelock sandbox, mcp proxy --sandbox
  SANDBOX_POLICY: {exit: 1, summary: 'the sandbox workspace or a filesystem.allow_read/allow_write entry is refused (protected directory, home, system path, a directory of daemon sockets)'},
  SANDBOX_LAYER_UNAVAILABLE: {exit: 1, summary: 'a containment layer the mode requires is missing (bubblewrap, user namespaces, seccomp); --best-effort runs degraded'},
  SANDBOX_DEGRADED: {exit: 1, summary: 'sandbox --dry-run: some containment layers are unavailable (the sandbox would run degraded)'},
  SANDBOX_NOT_AVAILABLE: {exit: 2, summary: 'sandbox --dry-run: the sandbox cannot run as asked (an error, or strict mode without every layer)'},
  SANDBOX_LAUNCH_FAILED: {exit: 1, summary: 'the sandbox could not be prepared (temporary directory, bridge socket, embedded proxy)'},
  // --- mediation envelope trust store (envelope spec §10: 2 store/input errors, 3 verification failures)
  ENVELOPE_TRUST_INVALID: {exit: 2, summary: 'envelope trust: the store, a target, a key, a key source or the request read from stdin is invalid'},
  ENVELOPE_VERIFY_FAILED: {exit: 3, summary: 'envelope trust verify: the request does not carry a valid mediation signature from a trusted actor'},
  // --- git protection (docs/git-protection.md)
  GIT_PUSH_BLOCKED: {exit: 1, summary: 'git scan-push: the push carries a secret or updates a branch outside git_protection.allowed_branches (the pre-push hook refuses it)'},
  GIT_SCAN_FAILED: {exit: 1, summary: 'git scan-push: git could not list the pushed commits (not a repository, unknown revision), or their diff is over the 100 MiB scan limit; the hook refuses the push, failing closed'},
  GIT_NOT_A_REPOSITORY: {exit: 1, summary: 'git install-hooks: no git repository above the current directory, or its .git file is invalid'},
  // --- file sentry (docs/file-sentry.md)
  FILE_SENTRY_FAILED: {exit: 1, summary: 'file_sentry is enabled and its watches could not be armed (a watch path is missing or not a directory); best_effort continues without'},
  FILE_SENTRY_BLOCKED: {exit: 1, summary: 'file_sentry action block: the wrapped process wrote a secret to a watched file and was ended'},
  INTERNAL: {exit: 70, summary: 'a bug: please report it with the stack trace'},
} as const

export type ErrorCode = keyof typeof ERROR_REGISTRY
