import type {CorpusSpec} from './corpus-generator.js'

// The project's own golden corpora (goldens/<name>/): inputs are regenerated from these specs
// by test/golden and must stay byte-identical; outputs are compiled with the fixture.

export interface GoldenCorpus {
  name: string
  why: string
  spec: CorpusSpec
  /** learn-compile §19.4 fixture (plus the project's `module_digests` pin). */
  fixture: Record<string, unknown>
}

const API = 'https://api.example.com'

function fixture(agent: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    agent,
    floors: {},
    normalization: {},
    cardinality: {},
    window_duration_seconds: 3600,
    accept_tail: false,
    compile_config_hash: 'sha256:golden-config',
    pipelock_version: 'golden-pipelock-version',
    pipelock_build_sha: 'golden-pipelock-sha',
    go_version: 'golden-runtime',
    module_digest_root: 'sha256:golden-module-digest-root',
    settings: {confidence: {}, normalization: {algorithm: 'frequency_weighted_entropy_v1'}},
    deterministic: true,
    deterministic_clock: '2026-05-02T00:00:00Z',
    signer: {seed_phrase: 'pipelock-golden-deterministic-signer', key_id: 'golden-contract-compile'},
    module_digests: {'pipelock-golden': 'sha256:4b0e1c2f8d3a6e5b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d'},
    ...extra,
  }
}

export const GOLDEN_CORPORA: readonly GoldenCorpus[] = [
  {
    name: 'multi-session',
    why: 'five sessions, each its own hash chain, rotated across several files (Q1 not reproduced)',
    spec: {
      seed: 1,
      agent: 'shop-agent',
      sessions: 5,
      events: 240,
      start: '2026-05-01T08:00:00Z',
      spanSeconds: 5400,
      linesPerFile: 25,
      checkpointEvery: 10,
      shape: {
        routes: [
          {method: 'GET', url: `${API}/v1/products`, weight: 30},
          {method: 'GET', url: `${API}/v1/cart`, weight: 15},
          {method: 'POST', url: `${API}/v1/cart/items`, weight: 10},
          {method: 'POST', url: `${API}/v1/checkout`, weight: 3, action: 'warn'},
          {method: 'GET', url: 'https://cdn.example.net/assets/app.js', weight: 8, surface: 'response'},
          {method: 'POST', url: 'https://paste.example.org/upload', weight: 1, action: 'block', surface: 'dlp'},
          {method: 'GET', url: 'https://docs.example.com/', weight: 4, actionClass: ''},
        ],
      },
    },
    fixture: fixture('shop-agent', {floors: {min_sessions: 2, min_events: 5, min_windows: 1}}),
  },
  {
    name: 'multi-hour',
    why: 'eight hours of traffic: several one-hour windows, default floors 5/20/3, stable rules',
    spec: {
      seed: 2,
      agent: 'report-agent',
      sessions: 6,
      events: 300,
      start: '2026-05-01T00:30:00Z',
      spanSeconds: 8 * 3600,
      shape: {
        routes: [
          {method: 'GET', url: `${API}/v2/reports`, weight: 60},
          {method: 'GET', url: `${API}/v2/reports/summary`, weight: 25},
          {method: 'POST', url: `${API}/v2/reports`, weight: 10},
          {method: 'GET', url: 'https://metrics.example.com/query', weight: 5, actionClass: 'unclassified'},
        ],
      },
    },
    fixture: fixture('report-agent', {}),
  },
  {
    name: 'collapsing-paths',
    why: '/v1/users/<id> from 60 ids collapses to /v1/users/*; the reserved admin and me siblings stay literal',
    spec: {
      seed: 3,
      agent: 'crm-agent',
      sessions: 4,
      events: 260,
      start: '2026-05-01T09:00:00Z',
      spanSeconds: 3 * 3600,
      shape: {
        routes: [
          {method: 'GET', url: `${API}/v1/users/{id}`, weight: 60, ids: 60},
          {method: 'PATCH', url: `${API}/v1/users/{id}`, weight: 10, ids: 60},
          {method: 'GET', url: `${API}/v1/users/admin`, weight: 8},
          {method: 'GET', url: `${API}/v1/users/me`, weight: 8},
          {method: 'GET', url: `${API}/v1/users`, weight: 10},
          {method: 'GET', url: `${API}/v1/teams/core`, weight: 4},
        ],
      },
    },
    fixture: fixture('crm-agent', {floors: {min_sessions: 2, min_events: 10, min_windows: 1}}),
  },
  {
    name: 'tail-block',
    why: 'per-host cap 4: wiki.example.com overflows into an _other tail above 5% and blocks promotion; api.example.com overflows under the threshold',
    spec: {
      seed: 4,
      agent: 'wiki-agent',
      sessions: 3,
      events: 200,
      start: '2026-05-01T10:00:00Z',
      spanSeconds: 2 * 3600,
      shape: {
        routes: [
          ...['home', 'search', 'recent', 'random', 'help', 'about', 'contact', 'faq', 'changes', 'tools'].map((p, i) => ({
            method: 'GET',
            url: `https://wiki.example.com/${p}`,
            weight: i < 4 ? 12 : 2,
          })),
          {method: 'GET', url: `${API}/a`, weight: 30},
          {method: 'GET', url: `${API}/b`, weight: 20},
          {method: 'GET', url: `${API}/c`, weight: 15},
          {method: 'GET', url: `${API}/d`, weight: 12},
          {method: 'GET', url: `${API}/e`, weight: 1},
        ],
      },
    },
    // min_distinct_values high so normalisation keeps every literal path; the cap makes the tail.
    fixture: fixture('wiki-agent', {
      floors: {min_sessions: 1, min_events: 1, min_windows: 1},
      normalization: {min_distinct_values: 1000},
      cardinality: {cardinality_cap_per_host: 4, tail_promotion_block_pct: 5.0},
    }),
  },
  {
    name: 'intercepted-https',
    why: 'HTTPS seen through TLS interception (transports §2.13): inner requests give host/path/method rules (ports stripped), each tunnel its / + CONNECT rule',
    spec: {
      seed: 5,
      agent: 'billing-agent',
      sessions: 4,
      events: 220,
      start: '2026-05-01T11:00:00Z',
      spanSeconds: 2 * 3600,
      shape: {
        routes: [
          {method: 'CONNECT', url: 'https://api.stripe.example/', weight: 10, transport: 'connect', actionClass: 'read'},
          {method: 'GET', url: 'https://api.stripe.example:443/v1/invoices', weight: 30, transport: 'intercept'},
          {method: 'GET', url: 'https://api.stripe.example:443/v1/invoices/{id}', weight: 20, ids: 40, transport: 'intercept'},
          {method: 'POST', url: 'https://api.stripe.example:443/v1/invoices', weight: 8, transport: 'intercept'},
          {method: 'POST', url: 'https://api.stripe.example:443/v1/refunds', weight: 4, transport: 'intercept', action: 'warn', surface: 'dlp'},
          {method: 'CONNECT', url: 'https://hooks.example.com/', weight: 3, transport: 'connect', actionClass: 'read'},
          {method: 'POST', url: 'https://hooks.example.com:443/notify', weight: 6, transport: 'intercept'},
        ],
      },
    },
    fixture: fixture('billing-agent', {floors: {min_sessions: 2, min_events: 5, min_windows: 1}}),
  },
  {
    name: 'websocket-traffic',
    why: 'WebSocket handshakes (/ws, captured with the mapped http(s) URL and GET, transport websocket) and reverse-proxy requests (absolute upstream URL) compile to destinations beside forward traffic',
    spec: {
      seed: 5,
      agent: 'chat-agent',
      sessions: 3,
      events: 220,
      start: '2026-05-01T11:00:00Z',
      spanSeconds: 2 * 3600,
      shape: {
        routes: [
          {method: 'GET', url: 'https://stream.example.com/v1/socket', weight: 30, transport: 'websocket'},
          {method: 'GET', url: 'http://realtime.example.com/events', weight: 10, transport: 'websocket'},
          {method: 'GET', url: 'https://backend.example.com/api/items', weight: 25, transport: 'reverse'},
          {method: 'POST', url: 'https://backend.example.com/api/items', weight: 8, transport: 'reverse'},
          {method: 'GET', url: `${API}/v1/models`, weight: 20},
        ],
      },
    },
    fixture: fixture('chat-agent', {floors: {min_sessions: 2, min_events: 5, min_windows: 1}}),
  },
  {
    name: 'mcp-tools',
    why: '[ext mcp.md §15.6.1] HTTP and MCP tool-call captures compiled with include_mcp: mcp_tool_call rules per server+tool (opportunities = calls to the server), a blocked call counted, the HTTP rules as without MCP',
    spec: {
      seed: 5,
      agent: 'code-agent',
      sessions: 3,
      events: 180,
      start: '2026-05-01T09:00:00Z',
      spanSeconds: 2 * 3600,
      shape: {
        routes: [
          {method: 'GET', url: `${API}/v1/issues`, weight: 20},
          {method: 'POST', url: `${API}/v1/issues`, weight: 5},
          {method: '', url: '', weight: 30, mcp: {server: 'npx', tool: 'read_file', args: '{"path":"\\u003cstring\\u003e"}'}},
          {method: '', url: '', weight: 15, mcp: {server: 'npx', tool: 'list_directory', args: '{"path":"\\u003cstring\\u003e"}'}},
          {method: '', url: '', weight: 8, mcp: {server: 'npx', tool: 'write_file', args: '{"content":"\\u003cstring\\u003e","path":"\\u003cstring\\u003e"}'}},
          {method: '', url: '', weight: 2, action: 'block', mcp: {server: 'npx', tool: 'write_file', args: '[REDACTED]'}},
          {method: '', url: '', weight: 10, mcp: {server: 'github.example.com', tool: 'search_issues', args: '{"query":"\\u003cstring\\u003e"}'}},
          {method: '', url: '', weight: 1, mcp: {server: 'github.example.com', tool: 'create_issue', args: '{"body":"\\u003cstring\\u003e","title":"\\u003cstring\\u003e"}'}},
        ],
      },
    },
    fixture: fixture('code-agent', {floors: {min_sessions: 2, min_events: 5, min_windows: 1}, include_mcp: true}),
  },
]
