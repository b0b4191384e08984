/**
 * The 17 built-in MCP tool-call policy rules (spec mcp.md §8.4), exact data. Used when tool policy
 * auto-enables in MCP proxy modes (§14.2) and by the presets (§14.4). `action` absent = the
 * section default applies. Lives in the config layer because presets embed it.
 */
export interface ToolPolicyRuleSpec {
  readonly name: string
  readonly tool_pattern: string
  readonly arg_pattern?: string
  readonly arg_key?: string
  readonly action?: string
  readonly redirect_profile?: string
}

const SHELL = '(?i)^(bash|shell|exec|run_command|execute|terminal|bash_exec)$'
const FILE_WRITE = '(?i)^(write_file|file_write|edit_file|create_file|modify_file|append_file)$'
const PERSIST_PATHS = '(/etc/crontab\\b|/etc/cron\\.(d|daily|hourly|weekly|monthly)/|/var/spool/cron/|/etc/init\\.d/|/etc/systemd/|/lib/systemd/|/usr/lib/systemd/|\\.config/systemd/user/|/Library/Launch(Daemons|Agents)/)'

export const BUILTIN_TOOL_POLICY_RULES: readonly ToolPolicyRuleSpec[] = Object.freeze([
  {name: 'Destructive File Delete', tool_pattern: SHELL, arg_pattern: '(?i)\\brm\\s+(--\\s+)?(-[a-z]*[rf]\\b|--(?:recursive|force)\\b)', action: 'block'},
  {name: 'Recursive Permission Change', tool_pattern: SHELL, arg_pattern: '(?i)\\b(chmod\\s+(-R|--recursive)\\s+(777|666)|chmod\\s+(777|666)\\s+(-R|--recursive)|chown\\s+(-R|--recursive))\\b'},
  {
    name: 'Credential File Access',
    tool_pattern: '(?i)^(bash|shell|exec|run_command|execute|terminal|bash_exec|read_file|file_read)$',
    arg_pattern: '(?i)(\\.ssh/(id_|authorized)|\\.aws/credentials|\\.env\\b|\\.netrc|/etc/shadow)',
    action: 'block',
  },
  {
    name: 'Network Exfiltration',
    tool_pattern: SHELL,
    arg_pattern: '(?i)\\b(curl|wget)\\b.*(-d\\s|-F\\s|-T\\s|--data(?:-binary|-raw|-urlencode)?\\b|--form\\b|--upload-file\\b|--post-data\\b|--post-file\\b|--body-data\\b|--body-file\\b|-X\\s+POST)',
  },
  {name: 'Reverse Shell', tool_pattern: SHELL, arg_pattern: '(?i)(bash\\s+-i\\s+>&|/dev/tcp/|mkfifo\\s+|nc\\s+-e|ncat\\s+-e)', action: 'block'},
  {name: 'Disk Wipe Command', tool_pattern: SHELL, arg_pattern: '(?i)\\b(dd\\s+if=.*of=/dev/|mkfs\\.|fdisk)\\b', action: 'block'},
  {name: 'Package Install', tool_pattern: SHELL, arg_pattern: '(?i)\\b(pip|npm|gem|cargo|go)\\s+install\\b'},
  {
    name: 'Destructive Git Operation',
    tool_pattern: '(?i)^(bash|shell|exec|run_command|execute|terminal|bash_exec|git)$',
    arg_pattern: '(?i)(\\bgit\\s+)?(push\\s+(--force(\\s|$)|-f\\b)|reset\\s+--hard\\b|clean\\s+-fd\\b)',
    action: 'block',
  },
  {name: 'Encoded Command Execution', tool_pattern: SHELL, arg_pattern: '(?i)(\\beval\\b.*\\bbase64\\b|\\bbase64\\s+(-d|--decode)\\b.*\\|\\s*(ba)?sh\\b)', action: 'block'},
  {
    name: 'Cron Job Persistence',
    tool_pattern: SHELL,
    arg_pattern: '(?i)(\\bcrontab\\s+(-\\w+\\s+\\S+\\s+)*-e\\b|\\bcrontab\\s+(-\\w+\\s+\\S+\\s+)*[^-\\s]|>{1,2}\\s*/(?:var/spool/cron|etc/cron)|\\|\\s*crontab\\b)',
    action: 'block',
  },
  {name: 'Systemd Service Persistence', tool_pattern: SHELL, arg_pattern: '(?i)\\bsystemctl\\s+(-{1,2}\\w+\\s+)*(enable|daemon-reload)\\b', action: 'block'},
  {name: 'Persistence Path Write', tool_pattern: FILE_WRITE, arg_pattern: `(?i)${PERSIST_PATHS}`, action: 'block'},
  {
    name: 'Persistence Path Write via Command',
    tool_pattern: SHELL,
    arg_pattern: `(?i)(>{1,2}\\s*[^;|&]*${PERSIST_PATHS}|\\b(tee|sed\\s+-i)\\s+[^;|&]*${PERSIST_PATHS}|\\b(cp|mv|install|ln)\\b\\s+(\\S+\\s+)+\\S*${PERSIST_PATHS})`,
    action: 'block',
  },
  {
    name: 'Shell Profile Modification',
    tool_pattern: FILE_WRITE,
    arg_pattern: '(?i)((?:^|/)\\.(bashrc|bash_profile|profile|zshrc|zprofile|zshenv|bash_logout)\\b|/etc/profile\\b)',
    action: 'block',
  },
  {
    name: 'Shell Profile Write via Command',
    tool_pattern: SHELL,
    arg_pattern:
      '(?i)(>{1,2}[^;|&]*(?:^|[/\\s])\\.(bashrc|bash_profile|profile|zshrc|zprofile|zshenv|bash_logout)\\b|\\b(tee|sed\\s+-i)[^;|&]*(?:^|[/\\s])\\.(bashrc|bash_profile|profile|zshrc|zprofile|zshenv|bash_logout)\\b|\\b(cp|mv|install|ln)\\b\\s+(\\S+\\s+)+(?:\\S*/)?\\.(bashrc|bash_profile|profile|zshrc|zprofile|zshenv|bash_logout)\\s*$|\\balias\\s+\\w+=|>{1,2}[^;|&]*/etc/profile\\b|\\b(tee|sed\\s+-i)[^;|&]*/etc/profile\\b|\\b(cp|mv|install|ln)\\b\\s+(\\S+\\s+)+\\S*/etc/profile\\s*$)',
    action: 'block',
  },
  {
    name: 'Detached Process Spawning',
    tool_pattern: SHELL,
    arg_pattern: '(?i)(\\bnohup\\s+|\\bdisown\\b|\\bsetsid\\s+|\\bscreen\\s+(-\\S+\\s+)*-[dDm]|\\btmux\\s+(new-session|new)\\s+-d)',
  },
  {
    name: 'Audit Log Tampering',
    tool_pattern: '(?i)^(bash|shell|exec|run_command|execute|terminal|bash_exec|write_file|file_write|edit_file|create_file|modify_file|append_file)$',
    arg_pattern:
      '(?i)(\\b(rm|truncate|shred)\\b[^;|&]*/var/log/|\\b(rm|truncate|shred)\\b[^;|&]*\\.(log|audit|jsonl)\\b|>{1,2}\\s*[^;|&]*(/var/log/|\\.(log|audit|jsonl)\\b)|\\bhistory\\s+-c\\b|\\bunset\\s+HISTFILE\\b|\\bexport\\s+HISTFILE=/dev/null\\b)',
  },
])

/** hostile-model's 18th rule (§8.4). */
export const ENVIRONMENT_DUMP_RULE: ToolPolicyRuleSpec = Object.freeze({
  name: 'Environment Dump',
  tool_pattern: SHELL,
  arg_pattern: '(?i)\\b(printenv|env\\b|set\\b|export\\s+-p)',
  action: 'block',
})
