import type {EvidenceReportData} from './report-data.js'
import {describeCounts} from './evidence-count.js'

// One self-contained HTML page for people (no script, no network, no external font or image):
// verdict banner, decisions over time as an inline SVG stacked bar chart, top hosts and block
// reasons, contract generations and lifecycle events, and every block with its receipt id.
// Everything from the evidence is untrusted text and is escaped.

const COLORS: Record<string, string> = {
  allow: '#2e7d32',
  block: '#c62828',
  warn: '#ef6c00',
  ask: '#6a1b9a',
  strip: '#00838f',
  forward: '#1565c0',
  redirect: '#4e342e',
}
const OTHER = '#757575'

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const e = escapeHtml

function banner(d: EvidenceReportData): string {
  const [bg, title, text] =
    d.verdict === 'valid'
      ? ['#2e7d32', 'VALID', 'Every receipt verified against the pinned key; every chain is complete and in order.']
      : d.verdict === 'self_consistent_only' && !d.verification.evidenceReceipts.signaturesChecked
        ? ['#ef6c00', 'NO KEY GIVEN', `The signatures of ${d.verification.evidenceReceipts.count} v2 receipt(s) were NOT checked (no key given): their structure and chain links are consistent, but nothing proves who signed them or that they are unaltered.`]
        : d.verdict === 'self_consistent_only'
          ? ['#ef6c00', 'SELF-CONSISTENT ONLY', 'The evidence is internally consistent, but no key was pinned: it does not prove who signed it.']
          : d.verdict === 'empty'
            ? ['#757575', 'NO RECEIPTS', 'The input holds no receipt.']
            : d.verdict === 'not_verifiable'
              ? ['#6a1b9a', 'NOT VERIFIABLE BY THIS VERSION', `${d.verification.notVerifiable.count} receipt(s) need an extension this version does not implement (${d.verification.notVerifiable.extensions.join(', ')}); every other check passed. ${d.verification.notVerifiable.first?.message ?? ''}`]
              : ['#c62828', 'INVALID', `Verification failed: ${d.error ?? ''}`]
  return `<section class="banner" style="background:${bg}" data-verdict="${e(d.verdict)}"><h1>${title}</h1><p>${e(text)}</p><p class="label">${e(d.label)}</p></section>`
}

function chart(d: EvidenceReportData): string {
  const b = d.timeline.buckets
  if (b.length === 0) return '<p>No decisions.</p>'
  const W = 960
  const H = 240
  const pad = 30
  const max = Math.max(1, ...b.map((x) => Object.values(x).reduce((s, n) => s + n, 0)))
  const bw = (W - pad * 2) / b.length
  const verdicts = Object.keys(d.byVerdict)
  const bars: string[] = []
  b.forEach((bucket, i) => {
    let y = H - pad
    for (const v of verdicts) {
      const n = bucket[v] ?? 0
      if (n === 0) continue
      const h = ((H - pad * 2) * n) / max
      y -= h
      bars.push(`<rect x="${(pad + i * bw + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[v] ?? OTHER}"><title>${e(v)}: ${n}</title></rect>`)
    }
  })
  const legend = verdicts.map((v, i) => `<g transform="translate(${pad + i * 110},8)"><rect width="12" height="12" fill="${COLORS[v] ?? OTHER}"/><text x="16" y="11">${e(v)} (${d.byVerdict[v]})</text></g>`).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="decisions over time by verdict"><rect width="${W}" height="${H}" fill="#fafafa"/>${legend}<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/>${bars.join('')}<text x="${pad}" y="${H - 8}">${e(d.timeline.start ?? '')}</text><text x="${W - pad}" y="${H - 8}" text-anchor="end">${e(d.timeline.end ?? '')}</text><text x="4" y="${pad + 4}">${max}</text></svg>`
}

function table(headers: string[], rows: string[][], testid: string): string {
  if (rows.length === 0) return `<p data-testid="${testid}">None.</p>`
  const head = headers.map((h) => `<th>${e(h)}</th>`).join('')
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('\n')
  return `<table data-testid="${testid}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

/** Where the blocks past the page's cap are: the file that lists them all, or the flag that writes one. */
export function blocksOmittedNote(d: EvidenceReportData): string {
  const listed = `${d.blocksOmitted} more blocks not listed here (the page lists the first ${d.blocks.length})`
  return d.blocksFile === undefined
    ? `${listed}; pipelock audit report --blocks-jsonl FILE writes every block, one JSON object per line.`
    : `${listed}; every block is in ${d.blocksFile}, one JSON object per line.`
}

/** How many lifecycle events the page leaves out, and where they are counted. */
export function lifecycleOmittedNote(d: EvidenceReportData): string {
  return `${d.lifecycleOmitted} more lifecycle, configuration and airlock events not listed here (the page lists the first ${d.lifecycle.length}); the receipt counts by class include them.`
}

export function renderReportHtml(d: EvidenceReportData, generatedAt: string): string {
  const v = d.verification
  const counts = Object.entries(d.byVerdict)
    .map(([k, n]) => `<div class="stat"><span class="n" data-testid="verdict-${e(k)}">${n}</span><span>${e(k)}</span></div>`)
    .join('')
  const css = `body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}main{padding:16px 24px}.banner{color:#fff;padding:16px 24px}.banner h1{margin:0;font-size:28px}.label{opacity:.85;font-family:monospace}
.stats{display:flex;gap:12px;flex-wrap:wrap}.stat{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:90px}.stat .n{display:block;font-size:22px;font-weight:600}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-family:monospace;font-size:12px;word-break:break-all}th{background:#f0f0f0}h2{margin-top:24px}`
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>Pipelock evidence report</title><style>${css}</style></head>
<body>${banner(d)}<main>
<h2>Summary</h2>
<div class="stats"><div class="stat"><span class="n" data-testid="receipt-count">${d.receiptCount}</span><span>receipts</span></div><div class="stat"><span class="n" data-testid="decision-count">${d.decisions}</span><span>decisions</span></div>${counts}</div>
<p data-testid="receipt-classes">Receipts by class: ${e(describeCounts(v.counts))}.</p>
<p>Files: ${v.files.length}; recorder entries: ${v.entries.count}; v1 receipts: ${v.actionReceipts.count}${v.actionReceipts.rootHash === undefined ? '' : ` (root ${e(v.actionReceipts.rootHash)})`}; v2 receipts: ${v.evidenceReceipts.count}${v.evidenceReceipts.rootHash === undefined ? '' : ` (root ${e(v.evidenceReceipts.rootHash)})`}.</p>
<h2>Decisions over time</h2>
${chart(d)}
<h2>Top hosts</h2>
${table(['host', 'decisions'], d.topHosts.map((h) => [h.host, String(h.count)]), 'top-hosts')}
<h2>Top block reasons</h2>
${table(['reason', 'blocks'], d.topBlockReasons.map((r) => [r.reason, String(r.count)]), 'block-reasons')}
<h2>Contract generations</h2>
${table(['contract hash', 'generation', 'decisions'], d.contractGenerations.map((g) => [g.contractHash, g.generation, String(g.decisions)]), 'generations')}
<h2>Lifecycle, configuration and airlock events</h2>
${table(['time', 'kind', 'event id', 'contract', 'generation', 'operator', 'detail'], d.lifecycle.map((l) => [l.timestamp, l.kind, l.id, l.contractHash, l.generation, l.operator, l.detail]), 'lifecycle')}
${d.lifecycleOmitted > 0 ? `<p data-testid="lifecycle-omitted">${e(lifecycleOmittedNote(d))}</p>` : ''}
<h2>Every block</h2>
${table(['time', 'receipt id', 'target', 'transport', 'reason', 'where'], d.blocks.map((b) => [b.timestamp, b.id, b.target, b.transport, b.reason, `${b.file}:${b.line}`]), 'blocks')}
${d.blocksOmitted > 0 ? `<p data-testid="blocks-omitted">${e(blocksOmittedNote(d))}</p>` : ''}
<h2>Warnings</h2>
${d.warnings.length === 0 ? '<p>None.</p>' : `<ul>${d.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>`}
<p><small>Generated ${e(generatedAt)} by pipelock audit report. Offline document: no scripts, no network.</small></p>
</main></body></html>
`
}
