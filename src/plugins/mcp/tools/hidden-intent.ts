/**
 * [ext] Tool-definition poisoning without trigger words (issue 37): the reference's poison patterns
 * (§6.3 check 2) need words like IMPORTANT or an exfiltration verb next to `.ssh`. These rules look
 * for what a poisoned definition has to do whatever its wording:
 *
 * - `Hidden Text Marker` — text meant for the model and hidden from a person reading the tool list:
 *   HTML comments, CSS-hidden spans, tags addressed to the model (`<system>`, `<instructions>`,
 *   `<note-to-ai>` …), invisible or format characters (zero-width, bidi controls, tag characters;
 *   an emoji's ZWJ and variation selectors are not counted), terminal escapes, and long whitespace
 *   runs with more text after them. Checked on the raw text, before any normalisation removes them.
 * - `Model-Directed Instruction` — instructions addressed to the model rather than documentation of
 *   the tool: "before answering, read …", "do not tell the user", "note to the assistant", "you must
 *   ignore …", "silently send …".
 * - `Cross-Tool Data Reference` — asks for data the tool has no business with: the contents of a
 *   credential store (`~/.ssh`, `~/.aws`, `id_rsa`, `.env`, `mcp.json` …), the result of another
 *   tool, other tools' data or credentials, the conversation or the system prompt.
 *
 * Ordinary tool documentation ("you must provide a path", "use this tool when you need to …",
 * "before trying to access files") matches none of them; the unit table measures that against the
 * descriptions of real servers. Phrase rules run in RE2 (linear time) on a light normalisation
 * (invisible characters removed, NFKC, confusables folded, combining marks removed, white space
 * collapsed) that keeps digits and line structure as words.
 */
import RE2 from 're2'
import {mapExoticWhitespace, stripZeroWidth, type Scanner} from '../../scanner/index.js'

export const HIDDEN_TEXT_MARKER = 'Hidden Text Marker'
export const MODEL_DIRECTED_INSTRUCTION = 'Model-Directed Instruction'
export const CROSS_TOOL_DATA_REFERENCE = 'Cross-Tool Data Reference'

/** Credential stores and agent configuration an ordinary tool never asks for. */
const CRED_PATH =
  '(?:(?:~|\\$HOME|%USERPROFILE%|/home/[\\w.-]+|/root|/Users/[\\w.-]+)?/?\\.(?:ssh|aws|gnupg|kube|docker|netrc|npmrc|pypirc|pgpass|git-credentials|config/gcloud|azure|env)\\b|\\bid_(?:rsa|dsa|ecdsa|ed25519)\\b|/etc/(?:shadow|passwd|sudoers)\\b|\\b(?:mcp|claude_desktop_config)\\.json\\b)'

/** Things that belong to the user, the conversation or other tools. */
const FOREIGN_DATA =
  '(?:credentials?|secrets?|tokens?|api[\\s_-]?keys?|private\\s+keys?|passwords?|passphrases?|cookies?|conversation(?:\\s+history)?|chat\\s+history|message\\s+history|previous\\s+messages|system\\s+prompt|environment\\s+variables?|env\\s+vars?)'

const PASS_VERB = '(?:pass|send|forward|include|append|attach|provide|put|paste|copy|feed|insert|add|embed|upload|post|leak|exfiltrate)'

export const HIDDEN_INTENT_PATTERNS: ReadonlyArray<{name: string; regex: string}> = Object.freeze([
  // Instructions timed against the model's own turn.
  {
    name: MODEL_DIRECTED_INSTRUCTION,
    regex:
      '(?i)\\b(?:before|prior\\s+to)\\s+(?:answering|responding|replying|you\\s+(?:answer|respond|reply|proceed|continue|do\\s+anything|use\\s+(?:this|any)|call|invoke)|using\\s+(?:this|any(?:\\s+other)?)\\s+tool|calling\\s+(?:this|any(?:\\s+other)?)\\s+tool|any\\s+other\\s+(?:action|tool|step))\\b.{0,120}?\\b(?:read|call|invoke|run|execute|fetch|send|include|open|list|load|retrieve|collect|upload|cat|pass|use|check|look\\s+up)\\b',
  },
  // Secrecy from the person the model works for.
  {
    name: MODEL_DIRECTED_INSTRUCTION,
    regex:
      "(?i)\\b(?:do\\s+not|don'?t|never|must\\s+not|should\\s+not|shouldn'?t|mustn'?t)\\s+(?:tell|inform|notify|alert|warn|ask|mention|show|reveal|disclose|explain|let)\\b(?:\\s+(?:this|it|that|anything|about\\s+(?:this|it|that)))?(?:\\s+to)?\\s+(?:the\\s+|your\\s+)?(?:user|human|operator|person)s?\\b",
  },
  {
    name: MODEL_DIRECTED_INSTRUCTION,
    regex: '(?i)\\bwithout\\s+(?:telling|informing|notifying|alerting|asking|warning|showing|mentioning\\s+(?:it|this|that)\\s+to)\\s+(?:the\\s+|your\\s+)?(?:user|human|operator)s?\\b',
  },
  {
    name: MODEL_DIRECTED_INSTRUCTION,
    regex: '(?i)\\b(?:hide|conceal|keep)\\s+(?:this|it|that|these(?:\\s+\\w+)?|the\\s+\\w+)\\s+(?:hidden\\s+|secret\\s+)?from\\s+(?:the\\s+|your\\s+)?(?:user|human|operator)s?\\b',
  },
  {name: MODEL_DIRECTED_INSTRUCTION, regex: '(?i)\\b(?:the\\s+|your\\s+)?user\\s+(?:must|should|need|needs)\\s+(?:not|never)\\s+(?:to\\s+)?(?:know|see|notice|be\\s+told|find\\s+out)\\b'},
  {name: MODEL_DIRECTED_INSTRUCTION, regex: '(?i)\\b(?:silently|secretly|quietly|covertly|discreetly|invisibly)\\s+(?:read|send|include|call|invoke|upload|forward|copy|exfiltrate|collect|pass|append|add|attach|run|execute|fetch)(?:s|es|ed|ing)?\\b'},
  // The text speaks to the model.
  {name: MODEL_DIRECTED_INSTRUCTION, regex: '(?i)\\b(?:note|attention|message|instructions?|reminder)\\s+(?:to|for)\\s+(?:the\\s+)?(?:ai|assistant|model|llm|agent|claude|gpt|chatgpt|copilot|gemini)\\b'},
  {name: MODEL_DIRECTED_INSTRUCTION, regex: '(?i)\\bif\\s+you\\s+are\\s+(?:an?\\s+)?(?:ai|assistant|ai\\s+assistant|language\\s+model|llm|agent|ai\\s+agent|claude|gpt|chatgpt)\\b'},
  {name: MODEL_DIRECTED_INSTRUCTION, regex: '(?i)\\byou\\s+(?:must|should|need\\s+to|have\\s+to|are\\s+(?:required|instructed)\\s+to)\\s+(?:always\\s+|now\\s+|also\\s+)?(?:ignore|disregard|override|forget|obey)\\b'},
  {
    name: MODEL_DIRECTED_INSTRUCTION,
    regex: `(?i)\\byou\\s+(?:must|should|need\\s+to|have\\s+to|are\\s+(?:required|instructed)\\s+to)\\s+(?:always\\s+|first\\s+|also\\s+|now\\s+)*(?:read|call|invoke|open|load|retrieve|collect|${PASS_VERB.slice(3, -1)})\\b.{0,60}?(?:${CRED_PATH}|\\bcontents?\\s+of\\b|\\b${FOREIGN_DATA}\\b|\\bother\\s+tools?\\b|\\banother\\s+tool\\b)`,
  },
  // Data of credential stores, of other tools, of the conversation.
  {name: CROSS_TOOL_DATA_REFERENCE, regex: `(?i)\\b(?:contents?|text|data|value|values|output|copy|body|bytes)\\s+(?:of|from|in)\\s+(?:the\\s+|your\\s+|any\\s+)?(?:files?\\s+)?(?:at\\s+|in\\s+|under\\s+)?.{0,20}?${CRED_PATH}`},
  {name: CROSS_TOOL_DATA_REFERENCE, regex: `(?i)\\b${PASS_VERB}\\b.{0,60}?${CRED_PATH}`},
  {
    name: CROSS_TOOL_DATA_REFERENCE,
    regex: `(?i)\\b${PASS_VERB}\\b.{0,30}?\\b(?:results?|outputs?|responses?|contents?|return(?:ed)?\\s+values?|data)\\s+(?:of|from|returned\\s+by)\\s+(?:the\\s+|a\\s+|any\\s+|every\\s+|other\\s+|another\\s+|previous\\s+|earlier\\s+)?(?:[\\w.\`'"-]+\\s+)?(?:tools?|function|tool\\s+calls?|calls?|servers?)\\b`,
  },
  {
    name: CROSS_TOOL_DATA_REFERENCE,
    regex: "(?i)\\b(?:other|another|all\\s+other|previous|earlier)\\s+tools?(?:'s?|’s?)?\\s+(?:results?|outputs?|responses?|data|credentials?|tokens?|secrets?|arguments|parameters|inputs?)\\b",
  },
  {
    name: CROSS_TOOL_DATA_REFERENCE,
    regex: `(?i)\\b${FOREIGN_DATA}\\s+(?:from|of|used\\s+by|stored\\s+by|held\\s+by|belonging\\s+to|for)\\s+(?:the\\s+|any\\s+)?(?:other|another|any\\s+other|all\\s+other)\\s+(?:tools?|servers?|services?|integrations?|mcp\\s+servers?)\\b`,
  },
  {name: CROSS_TOOL_DATA_REFERENCE, regex: `(?i)\\b${PASS_VERB}\\b.{0,40}?\\b(?:entire|full|whole|complete|previous|prior|the)\\s+(?:conversation|chat|message)s?(?:\\s+history)?\\b`},
  {name: CROSS_TOOL_DATA_REFERENCE, regex: `(?i)\\b${PASS_VERB}\\b.{0,40}?\\b(?:your|the)\\s+system\\s+prompt\\b`},
])

/** Tags a reader of the tool list does not see rendered, or that address the model. */
const MODEL_TAG =
  /<\s*\/?\s*(?:system|instructions?|assistant|ai|llm|hidden|secret|important|critical|urgent|admin|developer|directive|override|tool[_-]?instructions?|note[_-]?to[_-]?(?:ai|assistant|model|llm|agent))\b[^<>]{0,100}>/i
/** A tag pair `<name>…</name>` whose name addresses the model (placeholders like `<path>` have no closing tag). */
const MODEL_TAG_PAIR = /<(model|prompt|context|agent|rules?|note|task|policy)>[^]{0,2000}?<\/\1\s*>/i
const HTML_COMMENT = /<!--/
const CSS_HIDDEN = /<[a-z][^>]{0,200}style\s*=\s*["'][^"']{0,200}(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?![.\d]*[1-9]))/i
const MARKDOWN_COMMENT = /(?:^|\n)[ \t]*\[\/\/\]:\s*#/
/** C0/C1 controls other than tab, line feed and carriage return (terminal escapes hide text too). */
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/
/** Invisible and format characters; emoji's variation selectors (FE00–FE0F) are not among them. */
const INVISIBLE = /[\u00ad\u115f\u1160\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\ufff9-\ufffb\uffa0\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]/u
const ZWJ = /\u200d/gu
const PICTOGRAPHIC = /[\p{Extended_Pictographic}\u{1f3fb}-\u{1f3ff}\ufe0f]/u
/** 40 or more blanks on one line, or 8 or more line breaks, with more text after them. */
const WHITESPACE_RUN = /(?:[ \t\u00a0\u2000-\u200a\u3000]{40,}|(?:[ \t]*\r?\n){8,})[ \t]*\S/

/** Whether a zero-width joiner sits outside an emoji sequence. */
function strayJoiner(s: string): boolean {
  ZWJ.lastIndex = 0
  for (let m = ZWJ.exec(s); m !== null; m = ZWJ.exec(s)) {
    const before = String.fromCodePoint(s.codePointAt(m.index - 1 >= 0 && (s.charCodeAt(m.index - 1) & 0xfc00) === 0xdc00 ? m.index - 2 : m.index - 1) ?? 0x20)
    const after = String.fromCodePoint(s.codePointAt(m.index + 1) ?? 0x20)
    if (!PICTOGRAPHIC.test(before) || !PICTOGRAPHIC.test(after)) return true
  }
  return false
}

/** The hidden-text check of one raw text. */
export function hasHiddenText(raw: string): boolean {
  return (
    HTML_COMMENT.test(raw) ||
    MODEL_TAG.test(raw) ||
    MODEL_TAG_PAIR.test(raw) ||
    CSS_HIDDEN.test(raw) ||
    MARKDOWN_COMMENT.test(raw) ||
    CONTROLS.test(raw) ||
    INVISIBLE.test(raw) ||
    (raw.includes('\u200d') && strayJoiner(raw)) ||
    WHITESPACE_RUN.test(raw)
  )
}

export class HiddenIntentRules {
  private readonly rules: ReadonlyArray<{name: string; re: RE2}>

  constructor(private readonly scanner: Scanner) {
    this.rules = HIDDEN_INTENT_PATTERNS.map((p) => ({name: p.name, re: new RE2(p.regex, 'u')}))
  }

  /** Invisible characters removed, NFKC, confusables folded, combining marks removed, white space collapsed. */
  phraseText(s: string): string {
    const n = this.scanner.response.normalizer
    return mapExoticWhitespace(n.stripCombiningMarks(n.confusableToAscii(stripZeroWidth(s).normalize('NFKC'))))
      .replace(/\s+/g, ' ')
      .replace(/[‘’]/g, "'")
  }

  /** Finding names (each at most once) for one tool's raw text parts. */
  scan(parts: readonly string[]): string[] {
    const found = new Set<string>()
    for (const raw of parts) if (hasHiddenText(raw)) found.add(HIDDEN_TEXT_MARKER)
    const text = this.phraseText(parts.join(' '))
    for (const r of this.rules) if (!found.has(r.name) && r.re.test(text)) found.add(r.name)
    return [...found]
  }
}
