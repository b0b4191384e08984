import {test} from 'node:test'
import assert from 'node:assert/strict'
import {assertRefused, load} from './helpers.js'

// Header values pipelock sends itself: one the HTTP client refuses (UND_ERR_INVALID_ARG) made
// every /fetch (or every webhook / OTLP delivery) fail while check and run accepted the file.

const RULE = 'an HTTP header value is printable ASCII \\(spaces and tabs inside allowed\\)'

test('fetch_proxy.user_agent: printable ASCII only, refused with the field, line and character', () => {
  assertRefused('fetch_proxy:\n  user_agent: "bot\\r\\nX-Injected: 1"\n', new RegExp(`fetch_proxy\\.user_agent: contains a line break \\(U\\+000D\\) at character 4: ${RULE}`), 2)
  assertRefused('fetch_proxy:\n  user_agent: "bot\\u0000"\n', /fetch_proxy\.user_agent: contains a control character \(U\+0000\) at character 4/, 2)
  assertRefused('fetch_proxy:\n  user_agent: "bot\\u007f"\n', /control character \(U\+007F\)/)
  assertRefused('fetch_proxy:\n  user_agent: "Bötchen/1.0"\n', /fetch_proxy\.user_agent: contains the non-ASCII character "ö" \(U\+00F6\) at character 2/)
  assertRefused('fetch_proxy:\n  user_agent: "bot 🤖"\n', /non-ASCII character "🤖" \(U\+1F916\) at character 5/)
  assertRefused('fetch_proxy:\n  user_agent: " bot"\n', /fetch_proxy\.user_agent: has leading or trailing whitespace/)
  assert.equal(load('fetch_proxy:\n  user_agent: "Mozilla/5.0 (X11; Linux x86_64)\\tbot"\n').config.fetch_proxy.user_agent, 'Mozilla/5.0 (X11; Linux x86_64)\tbot')
})

test('emit: the webhook token and OTLP headers are valid field values, never echoed', () => {
  const e = assertRefused('emit:\n  webhook:\n    url: "https://h.example/x"\n    auth_token: "sekret\\nvalue"\n', /emit\.webhook\.auth_token: contains a line break \(U\+000A\) at character 7/, 4)
  assert.ok(!e.message.includes('sekret'), e.message)
  const o = assertRefused('emit:\n  otlp:\n    endpoint: "https://o.example"\n    headers:\n      Authorization: "Bearer tökén"\n', /emit\.otlp\.headers\.Authorization: contains a non-ASCII character \(U\+00F6\) at character 9/, 5)
  assert.ok(!o.message.includes('tök'), o.message)
  assertRefused('emit:\n  otlp:\n    endpoint: "https://o.example"\n    headers:\n      "X Key": "v"\n', /emit\.otlp\.headers\.X Key: "X Key" is not a header name/)
  const ok = load('emit:\n  webhook:\n    url: "https://h.example/x"\n    auth_token: "abc.def-123"\n  otlp:\n    endpoint: "https://o.example"\n    headers:\n      X-Api-Key: "k 1"\n')
  assert.equal(ok.config.emit.otlp.headers['X-Api-Key'], 'k 1')
})
