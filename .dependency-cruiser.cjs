/**
 * The import rules of docs/architecture.md, checked in `npm test` (test/unit/architecture).
 * Layers point downward only; a plugin reaches another plugin through its index.ts; transports
 * never import each other; no circles. Type-only imports (`import type`, `import {type X}`) are
 * erased at build time and are not edges of any rule (`dependencyTypesNot: TYPE_ONLY`): a type
 * names a port, it loads nothing. The imports are read from the TypeScript syntax tree
 * (tsPreCompilationDeps: true) rather than from each file transpiled to JavaScript, which was
 * two thirds of the check's time; that also holds to the rules the few value-syntax imports the
 * build erases because only their types are used.
 */
// The layer of every plugin (docs/architecture.md, "Layers"). A plugin may import its own layer
// or a lower one; a new plugin must be added here or the `plugin-has-a-layer` rule fails.
const LAYERS = [
  ['errors', 'canonical', 'signing', 'dispatch', 'killswitch', 'stages', 'workers'],
  ['receipts', 'contracts', 'capture', 'config', 'tls', 'recorder', 'envelope'],
  ['scanner', 'enforcement', 'cee', 'sessions', 'learn', 'store', 'mcp', 'emit', 'decision', 'rules', 'a2a', 'shield', 'redaction', 'git', 'filesentry'],
  ['gate'],
  ['proxy'],
  ['mcp-proxy', 'sandbox'],
  ['audit', 'admin-client', 'preflight', 'deploy'],
]
const ALL = LAYERS.flat()
const TYPE_ONLY = ['type-only']
const any = (names) => `^src/plugins/(${names.join('|')})/`

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-points-down`,
  comment: `layer ${i} (${layer.join(', ')}) imports only layers 0..${i}`,
  severity: 'error',
  from: {path: any(layer)},
  to: {path: any(LAYERS.slice(i + 1).flat()), dependencyTypesNot: TYPE_ONLY},
}))

// HTTP transports of the proxy (adapters: parse, call the gate, relay). Shared relay code lives
// in proxy/relay, the gate in proxy/gate; neither imports a transport.
const HTTP_TRANSPORTS = {
  fetch: '^src/plugins/proxy/fetch-handler\\.ts$',
  connect: '^src/plugins/proxy/connect-handler\\.ts$',
  intercept: '^src/plugins/proxy/intercept/',
  reverse: '^src/plugins/proxy/reverse/',
  websocket: '^src/plugins/proxy/websocket/',
}
// MCP transports (stdio wrap, HTTP bridge, HTTP listener, WebSocket bridge).
const MCP_TRANSPORTS = {
  stdio: '^src/plugins/mcp-proxy/stdio-wrap\\.ts$',
  'http-bridge': '^src/plugins/mcp-proxy/http-bridge\\.ts$',
  'http-listener': '^src/plugins/mcp-proxy/http-listener\\.ts$',
  'ws-bridge': '^src/plugins/mcp-proxy/ws-bridge\\.ts$',
}
// run-listener.ts is not a transport of its own: it mounts the HTTP listener transport inside
// `pipelock run` (`--mcp-listen`), as composition does.
const transportRules = [HTTP_TRANSPORTS, MCP_TRANSPORTS].flatMap((set) =>
  Object.entries(set).map(([name, path]) => ({
    name: `transport-${name}-imports-no-transport`,
    comment: 'a transport never imports another transport: shared code goes to the shared relay',
    severity: 'error',
    from: {path},
    to: {path: Object.entries(set).filter(([n]) => n !== name).map(([, p]) => p), dependencyTypesNot: TYPE_ONLY},
  })),
)

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import circles, inside a plugin or across plugins',
      severity: 'error',
      from: {},
      to: {circular: true, viaOnly: {dependencyTypesNot: TYPE_ONLY}},
    },
    {
      name: 'plugin-through-index',
      comment: 'a plugin (or a command) uses another plugin only through its index.ts',
      severity: 'error',
      from: {path: '^src/(plugins/([^/]+)|commands|cli|hooks)/', pathNot: '^src/cli/mcp-proxy-run\\.ts$'},
      to: {path: '^src/plugins/[^/]+/', pathNot: ['^src/plugins/$2/', '^src/plugins/[^/]+/index\\.ts$'], dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'plugin-through-index-mcp-wrap',
      comment: 'the one exception: the oclif-free MCP wrap start (src/cli/mcp-proxy-run.ts) may import the mcp-proxy service file, not the index, which re-exports the bridges and the listener the wrap loads only when asked for (its start-up graph stays small)',
      severity: 'error',
      from: {path: '^src/cli/mcp-proxy-run\\.ts$'},
      to: {path: '^src/plugins/[^/]+/', pathNot: ['^src/plugins/[^/]+/index\\.ts$', '^src/plugins/mcp-proxy/service\\.ts$'], dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'plugin-has-a-layer',
      comment: 'every plugin is placed in a layer (LAYERS above)',
      severity: 'error',
      from: {path: '^src/plugins/', pathNot: any(ALL)},
      to: {dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'plugins-never-import-commands',
      severity: 'error',
      from: {path: '^src/plugins/'},
      to: {path: '^src/(commands|cli|hooks)/', dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'gate-and-relay-import-no-transport',
      comment: 'the gate and the shared relay sit below the transports',
      severity: 'error',
      from: {path: '^src/plugins/proxy/(gate|relay)/'},
      to: {path: Object.values(HTTP_TRANSPORTS), dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'composition-root-only-from-the-listener',
      comment: 'the composition root (proxy/compose.ts) builds the runtime and hands each part its ports: only the listener (server.ts) holds it, so no transport, stage or relay can use it as a service locator',
      severity: 'error',
      from: {path: '^src/', pathNot: '^src/plugins/proxy/server\\.ts$'},
      to: {path: '^src/plugins/proxy/compose\\.ts$', dependencyTypesNot: TYPE_ONLY},
    },
    {
      name: 'parts-never-import-the-listener',
      comment: 'the transports, the gate and the shared relay take their ports as arguments; they never reach the listener that routes to them',
      severity: 'error',
      from: {path: [...Object.values(HTTP_TRANSPORTS), '^src/plugins/proxy/(gate|relay)/']},
      to: {path: '^src/plugins/proxy/(server|compose)\\.ts$', dependencyTypesNot: TYPE_ONLY},
    },
    ...layerRules,
    ...transportRules,
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {extensions: ['.ts', '.js']},
  },
}
