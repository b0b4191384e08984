/**
 * An admin-API handler (session, policy…) on a real loopback socket for unit tests: routes the
 * request path (query stripped) from 127.0.0.1; anything the handler does not take is a 404.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

export interface ApiHandler {
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, clientIp: string): boolean
}

export async function serveApi(api: ApiHandler): Promise<{server: http.Server; port: number}> {
  const server = http.createServer((req, res) => {
    if (!api.handle(req, res, (req.url ?? '').split('?')[0]!, '127.0.0.1')) {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {server, port: (server.address() as AddressInfo).port}
}
