import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export type Behaviour = 'normal' | 'drop-once' | 'stall';

export interface TestServer {
  url: string;
  /** Range headers seen per path ('' when absent). */
  ranges: Map<string, string[]>;
  serve(path: string, body: Buffer, behaviour?: Behaviour): void;
  /** Answer `path` with a handler of its own (redirects, endless or trickling bodies). */
  handle(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Also serve every file under `dir` at `/<prefix>/...`. */
  serveDir(prefix: string, dir: string): void;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Serve https with this key and certificate (PEM) instead of plain http. */
  tls?: { key: string; cert: string };
}

/** A loopback HTTP(S) server that honours Range and can drop or stall a response, for download tests. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const files = new Map<string, { body: Buffer; behaviour: Behaviour; served: number }>();
  const handlers = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const dirs = new Map<string, string>();
  const ranges = new Map<string, string[]>();
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    ranges.set(path, [...(ranges.get(path) ?? []), req.headers.range ?? '']);
    const handler = handlers.get(path);
    if (handler) return handler(req, res);
    let file = files.get(path);
    if (!file) {
      const prefix = [...dirs.keys()].find((p) => path.startsWith(`/${p}/`));
      if (prefix) {
        const body = await readFile(join(dirs.get(prefix)!, normalize(path.slice(prefix.length + 2)))).catch(() => undefined);
        if (body) file = { body, behaviour: 'normal', served: 0 };
      }
    }
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    file.served++;
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const slice = file.body.subarray(start);
    const headers: Record<string, string | number> = { 'content-length': slice.length, 'accept-ranges': 'bytes' };
    if (m) headers['content-range'] = `bytes ${start}-${file.body.length - 1}/${file.body.length}`;
    res.writeHead(m ? 206 : 200, headers);
    if (file.behaviour === 'stall') {
      res.write(slice.subarray(0, 1024));
      return;
    }
    if (file.behaviour === 'drop-once' && file.served === 1) {
      res.write(slice.subarray(0, Math.floor(slice.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(slice);
  };
  const server: Server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ranges,
    serve: (path, body, behaviour = 'normal') => files.set(path, { body, behaviour, served: 0 }),
    handle: (path, handler) => handlers.set(path, handler),
    serveDir: (prefix, dir) => dirs.set(prefix, dir),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
