import {loadFeature} from '../proxy/index.js'
import type {WsBridgeOptions} from './ws-bridge.js'

/**
 * The stdio→WebSocket bridge, loaded (with the `ws` package) only for a ws:// or wss:// upstream:
 * a stdio wrap never needs it (bench: mcp; RSS per wrap). A bridge that cannot be loaded refuses.
 */
export async function runWsBridge(o: WsBridgeOptions): Promise<number> {
  const bridge = await loadFeature('mcp proxy --upstream ws(s)://', () => import('./ws-bridge.js'))
  return await bridge.runWsBridge(o)
}
