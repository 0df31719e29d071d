import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentEngines, AgentOptions } from '../agent/agent-options.js';
import type { AgentEvents } from '../agent/events.js';
import { EarshotError } from '../errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { AccessPolicy, isLoopbackHost, type AccessDecision } from './access-policy.js';
import { PageFiles } from './page-files.js';
import { SUBPROTOCOL, type ServerMessage } from './protocol.js';
import { defaultServeOptions, HARD_MESSAGE_LIMIT_FACTOR, type ServeOptions } from './serve-options.js';
import { Session } from './session.js';

/** The path of the WebSocket endpoint; everything else is the page. */
export const SOCKET_PATH = '/ws';

/** Close code for a connection turned away because every conversation slot is taken (RFC 6455: try again later). */
export const CLOSE_BUSY = 1013;
/** How long close() waits for a page to answer its close frame before cutting the connection, ms. */
const CLOSE_HANDSHAKE_MS = 1000;

export interface VoiceServerEvents {
  listening: { url: string; host: string; port: number };
  'session-open': { session: Session; remote: string };
  /** `closeMs`: from the socket closing to everything the session held being freed. */
  'session-close': { session: number; code: number; reason: string; closeMs: number };
  /** A connection turned away: by the access checks (`status` is the HTTP status), or busy (close code 1013). */
  refused: { remote: string; status: number; reason: string };
  /** A conversation's watchdog gave up on an engine call, replaced an engine, or stopped its agent (see AgentEvents). */
  'engine-failure': AgentEvents['engine-failure'] & { session: number };
  'engine-reloaded': AgentEvents['engine-reloaded'] & { session: number };
  fatal: AgentEvents['fatal'] & { session: number };
  /** A conversation answered a turn. */
  'turn-end': AgentEvents['turn-end'] & { session: number };
}

export interface VoiceServerInit {
  /** Engines loaded once and shared by every conversation. The server never disposes them. */
  engines: Required<Pick<AgentEngines, 'stt' | 'llm' | 'tts'>>;
  /** Options each conversation's agent is made with (models for its own VAD, prompt, turn-taking). */
  agentOptions?: AgentOptions;
  serve?: Partial<ServeOptions>;
}

/**
 * `earshot serve`: one page and one WebSocket endpoint on the same origin. Each socket is a conversation of
 * its own over the shared engines; their calls wait their turn in each engine's queue, in the order made.
 */
export class VoiceServer extends TypedEmitter<VoiceServerEvents> {
  readonly options: ServeOptions;
  private readonly init: VoiceServerInit;
  private readonly access: AccessPolicy;
  private readonly page = new PageFiles();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly live = new Map<WebSocket, Session>();
  private readonly alive = new WeakSet<WebSocket>();
  private heartbeat: NodeJS.Timeout | undefined;
  private nextSession = 1;
  private boundPort = 0;

  constructor(init: VoiceServerInit) {
    super();
    this.init = init;
    this.options = { ...defaultServeOptions, ...init.serve };
    if (!this.options.token && !isLoopbackHost(this.options.host)) {
      throw new EarshotError('BAD_OPTION', `serving on ${this.options.host} needs a token; give --token or bind 127.0.0.1`);
    }
    this.access = new AccessPolicy(this.options.token || undefined);
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_e, socket) => socket.destroy());
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxMessageBytes * HARD_MESSAGE_LIMIT_FACTOR,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  /** Open conversations. */
  get sessions(): readonly Session[] {
    return [...this.live.values()];
  }

  /** The page's address, with the token when there is one. */
  get url(): string {
    const host = ['0.0.0.0', '::'].includes(this.options.host) ? '127.0.0.1' : this.options.host;
    const shown = host.includes(':') ? `[${host}]` : host;
    const token = this.options.token ? `?token=${encodeURIComponent(this.options.token)}` : '';
    return `http://${shown}:${this.boundPort}/${token}`;
  }

  async listen(): Promise<void> {
    await bind(this.http, this.options.host, this.options.port);
    this.boundPort = (this.http.address() as AddressInfo).port;
    this.heartbeat = setInterval(() => this.checkPeers(), this.options.heartbeatMs);
    this.heartbeat.unref();
    this.emit('listening', { url: this.url, host: this.options.host, port: this.boundPort });
  }

  /** Closes every conversation (each turn is cut), then the server. The shared engines stay loaded. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    const closing = [...this.live].map(async ([ws, session]) => {
      const handshake = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1001, 'server closing');
      await session.close();
      // The page learns why (1001) only once the close handshake is done; a peer that never answers is cut below.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([handshake, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_HANDSHAKE_MS)))]);
      clearTimeout(timer);
    });
    await Promise.allSettled(closing);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const decision = this.access.checkRequest(req);
    if (!decision.ok) {
      this.refuse(req, decision);
      res.writeHead(decision.status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`earshot: ${decision.reason}\n`);
      return;
    }
    const cookie = this.access.cookieFor(req);
    const { pathname } = new URL(req.url ?? '/', 'http://x');
    if (!this.page.serve(pathname, res, cookie ? { 'Set-Cookie': cookie } : {})) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('earshot: not found\n');
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { pathname } = new URL(req.url ?? '/', 'http://x');
    let decision: AccessDecision = this.access.checkSocket(req);
    if (decision.ok && pathname !== SOCKET_PATH) decision = { ok: false, status: 400, reason: `the socket is at ${SOCKET_PATH}` };
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (decision.ok && !offered.includes(SUBPROTOCOL)) {
      decision = { ok: false, status: 400, reason: `this server speaks protocol ${SUBPROTOCOL}; ask for it as the WebSocket subprotocol` };
    }
    if (!decision.ok) {
      this.refuse(req, decision);
      const text = `earshot: ${decision.reason}\n`;
      socket.end(
        `HTTP/1.1 ${decision.status} ${decision.status === 401 ? 'Unauthorized' : decision.status === 403 ? 'Forbidden' : 'Bad Request'}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    // A socket error (a frame over the hard limit, a broken peer) closes that socket only.
    ws.on('error', () => ws.terminate());
    if (this.live.size >= this.options.maxSessions) {
      const reason = `every conversation slot is taken (${this.options.maxSessions}); try again when one is free`;
      const busy: ServerMessage = { type: 'error', code: 'busy', message: reason };
      ws.send(JSON.stringify(busy));
      ws.close(CLOSE_BUSY, 'busy');
      this.emit('refused', { remote, status: CLOSE_BUSY, reason: 'busy' });
      return;
    }
    const session = new Session(
      {
        send: (m) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
        },
        sendAudio: (frame) => {
          if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
        },
        close: (code, reason) => ws.close(code, reason),
      },
      {
        id: this.nextSession++,
        engines: this.init.engines,
        agentOptions: this.init.agentOptions ?? {},
        limits: this.options,
      },
    );
    this.live.set(ws, session);
    this.alive.add(ws);
    session.on('engine-failure', (e) => this.emit('engine-failure', { session: session.id, ...e }));
    session.on('engine-reloaded', (e) => this.emit('engine-reloaded', { session: session.id, ...e }));
    session.on('fatal', (e) => this.emit('fatal', { session: session.id, ...e }));
    session.on('turn-end', (e) => this.emit('turn-end', { session: session.id, ...e }));
    this.emit('session-open', { session, remote });
    ws.on('pong', () => this.alive.add(ws));
    ws.on('message', (data, isBinary) => session.receive(toBuffer(data), isBinary));
    ws.on('close', (code, reason) => {
      const closedAt = performance.now();
      this.live.delete(ws);
      void session.close().then(() =>
        this.emit('session-close', { session: session.id, code, reason: reason.toString(), closeMs: performance.now() - closedAt }),
      );
    });
  }

  /** Drops peers that did not answer the last ping (a laptop that slept, a cable pulled). */
  private checkPeers(): void {
    for (const ws of this.live.keys()) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  private refuse(req: IncomingMessage, decision: Extract<AccessDecision, { ok: false }>): void {
    this.emit('refused', { remote: req.socket.remoteAddress ?? '?', status: decision.status, reason: decision.reason });
  }
}

function bind(server: Server | NetServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'is in use; pick another with --port' : `cannot be bound (${e.code ?? e.message})`;
      reject(new EarshotError('BAD_OPTION', `${host}:${port} ${why}`));
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/** Fails as listen() would when `host:port` cannot be bound, so a taken port is reported before slow work. */
export async function checkBindable(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await bind(probe, host, port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
