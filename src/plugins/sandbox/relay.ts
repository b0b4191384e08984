/**
 * The two halves of the sandbox's only way out (spec containment.md §2.9, §2.11).
 *
 * Host side: `startUnixBridge` listens on a Unix socket in a private directory that bubblewrap
 * binds into the sandbox, and pipes each connection to pipelock's forward proxy (the embedded
 * one a command started, or a running `pipelock run` given by address). Nothing is parsed here:
 * the proxy sees CONNECT and absolute-URI requests and scans them as it scans any agent's.
 *
 * Sandbox side: `RELAY_SOURCE` runs as the sandbox's first process (`node -e`, under the syscall
 * filter). It listens on loopback inside the network namespace, pipes each TCP connection to the
 * bound socket, points the proxy variables at itself, then runs the agent, forwards SIGTERM/SIGINT
 * and exits with the agent's status (128+signal when it was killed). Inside the namespace there is
 * no other interface than loopback, so a request that ignores the proxy variables reaches nothing.
 */
import {chmodSync} from 'node:fs'
import net from 'node:net'

export interface UnixBridge {
  readonly socketPath: string
  close(): Promise<void>
}

/** Bounded like the rest of the proxy's listeners: a runaway agent cannot exhaust descriptors. */
const MAX_BRIDGE_CONNECTIONS = 256

export async function startUnixBridge(socketPath: string, target: {host: string; port: number}, log: (line: string) => void): Promise<UnixBridge> {
  const open = new Set<net.Socket>()
  const server = net.createServer({allowHalfOpen: true}, (client) => {
    if (open.size >= MAX_BRIDGE_CONNECTIONS) return void client.destroy()
    const upstream = net.connect({host: target.host, port: target.port, allowHalfOpen: true})
    open.add(client)
    open.add(upstream)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    upstream.on('error', (e) => {
      log(`pipelock: [bridge] connect to proxy ${target.host}:${target.port}: ${e.message}`)
      drop()
    })
    client.on('error', drop)
    client.on('close', () => open.delete(client))
    upstream.on('close', () => open.delete(upstream))
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  chmodSync(socketPath, 0o600)
  return {
    socketPath,
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/**
 * First, before anything else runs inside: descriptors pipelock itself inherited without
 * close-on-exec (a directory, a socket, a pipe its caller held open) reach this process through
 * prlimit and bwrap, and the agent could use them from its own table or through
 * /proc/<relay pid>/fd — a directory opens files outside the mount namespace, a socket is a way
 * out around the network namespace. Node's own descriptors are all close-on-exec, so the ones
 * without the flag are the inherited ones: they are closed, and only stdio goes on to the agent.
 * Where that cannot be known (no /proc/self/fdinfo) the relay refuses to start the agent.
 *
 * argv after `node -e RELAY_SOURCE --`: listen port ('0' = any), socket path, then the command.
 * Kept in plain CommonJS so it runs with nothing but the node binary bound into the sandbox.
 */
export const RELAY_SOURCE = String.raw`
const net = require('net'), fs = require('fs'), {spawn} = require('child_process');
const [port, sock, ...cmd] = process.argv.slice(1);
const err = (l) => process.stderr.write(l + '\n');
try {
  for (const n of fs.readdirSync('/proc/self/fd')) {
    if (Number(n) <= 2) continue;
    let info;
    try { info = fs.readFileSync('/proc/self/fdinfo/' + n, 'utf8'); } catch { continue; }
    const m = /^flags:\s*([0-7]+)$/m.exec(info);
    if (m === null) throw new Error('no flags in /proc/self/fdinfo/' + n);
    if ((parseInt(m[1], 8) & 0o2000000) === 0) fs.closeSync(Number(n));
  }
} catch (e) {
  err('[sandbox] closing inherited descriptors: ' + e.message); process.exit(1);
}
const srv = net.createServer({allowHalfOpen: true}, (c) => {
  const u = net.connect({path: sock, allowHalfOpen: true});
  u.on('error', (e) => { err('[bridge] connect to parent proxy: ' + e.message); c.destroy(); });
  c.on('error', () => u.destroy());
  c.pipe(u); u.pipe(c);
});
srv.on('error', (e) => { err('[sandbox] bridge proxy: bridge proxy listen: ' + e.message); process.exit(1); });
srv.listen(Number(port), '127.0.0.1', () => {
  const a = srv.address();
  const url = 'http://127.0.0.1:' + a.port;
  const env = {...process.env};
  for (const k of Object.keys(env)) if (k.toUpperCase().endsWith('_PROXY')) delete env[k];
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) env[k] = url;
  err('[sandbox] bridge proxy: 127.0.0.1:' + a.port + ' \u2192 ' + sock);
  let child;
  try {
    child = spawn(cmd[0], cmd.slice(1), {stdio: 'inherit', env});
  } catch (e) {
    err('[sandbox] command error: ' + e.message); process.exit(1);
  }
  child.on('error', (e) => {
    if (e.code === 'ENOENT') { err('[sandbox] command not found: ' + cmd[0] + ' (' + e.message + ')'); process.exit(127); }
    err('[sandbox] command error: ' + e.message); process.exit(1);
  });
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill(s));
  child.on('exit', (code, sig) => {
    const n = sig ? require('os').constants.signals[sig] : 0;
    process.exit(code !== null ? code : 128 + (n || 9));
  });
});
`
