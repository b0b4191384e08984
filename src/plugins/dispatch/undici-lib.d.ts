// Types of the undici files src/plugins/dispatch/index.ts imports directly (undici ships types
// for its index only; these files are what the index re-exports).
declare module 'undici/lib/dispatcher/agent.js' {
  import type {Agent} from 'undici'
  const agent: typeof Agent
  export default agent
}
declare module 'undici/lib/dispatcher/client.js' {
  import type {Client} from 'undici'
  const client: typeof Client
  export default client
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import type {Dispatcher} from 'undici'
  const dispatcher: typeof Dispatcher
  export default dispatcher
}
declare module 'undici/lib/core/connect.js' {
  import type {buildConnector} from 'undici'
  const connect: typeof buildConnector
  export default connect
}
declare module 'undici/lib/api/index.js' {
  const api: Record<string, unknown>
  export default api
}
