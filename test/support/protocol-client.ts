import WebSocket from 'ws';
import { float32ToInt16 } from '../../src/audio/pcm.js';
import { decodePcmFrame, encodePcmFrame, type PcmFrame } from '../../src/server/pcm-frame.js';
import { SUBPROTOCOL, type ClientMessage, type ServerMessage } from '../../src/server/protocol.js';

export interface ProtocolClient {
  socket: WebSocket;
  messages: ServerMessage[];
  /** performance.now() at which each of `messages` arrived. */
  arrivals: number[];
  frames: (PcmFrame & { at: number })[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  send(message: ClientMessage | Record<string, unknown>): void;
  sendRaw(data: string | Buffer): void;
  /** Sends `samples` as frames of `blockMs`, `speed` times faster than real time (Infinity: all at once). */
  sendAudio(samples: Float32Array, sampleRate: number, options?: { blockMs?: number; speed?: number }): Promise<void>;
  /** The first message (from `from` on) that matches, waiting up to `timeoutMs`. */
  next<T extends ServerMessage['type']>(type: T, options?: { timeoutMs?: number; from?: number; where?: (m: Extract<ServerMessage, { type: T }>) => boolean }): Promise<Extract<ServerMessage, { type: T }>>;
  close(): void;
}

export interface ConnectOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  origin?: string;
}

/** A script's client of `earshot serve`'s socket, as the page speaks it. Rejects with the HTTP status when refused. */
export function connectClient(url: string, options: ConnectOptions = {}): Promise<ProtocolClient> {
  const socket = new WebSocket(url, options.protocols ?? [SUBPROTOCOL], { headers: options.headers, origin: options.origin });
  const messages: ServerMessage[] = [];
  const arrivals: number[] = [];
  const frames: ProtocolClient['frames'] = [];
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      const d = decodePcmFrame(data);
      if (d.ok) frames.push({ ...d.frame, at: performance.now() });
    } else {
      messages.push(JSON.parse(data.toString()) as ServerMessage);
      arrivals.push(performance.now());
    }
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      wake();
    }),
  );
  const client: ProtocolClient = {
    socket,
    messages,
    arrivals,
    frames,
    closed,
    send: (m) => socket.send(JSON.stringify(m)),
    sendRaw: (data) => socket.send(data),
    async sendAudio(samples, sampleRate, { blockMs = 20, speed = 1 } = {}) {
      const block = Math.round((sampleRate * blockMs) / 1000);
      for (let i = 0; i < samples.length; i += block) {
        socket.send(encodePcmFrame(float32ToInt16(samples.subarray(i, i + block)), sampleRate));
        if (Number.isFinite(speed)) await new Promise((r) => setTimeout(r, blockMs / speed));
      }
    },
    next(type, { timeoutMs = 30_000, from = 0, where } = {}) {
      type M = Extract<ServerMessage, { type: typeof type }>;
      const find = () => messages.slice(from).find((m): m is M => m.type === type && (!where || where(m as M)));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (found) {
            done();
            resolve(found);
          } else if (socket.readyState === WebSocket.CLOSED) {
            done();
            reject(new Error(`socket closed before a '${type}' message; got: ${messages.map((m) => m.type).join(', ')}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no '${type}' message within ${timeoutMs} ms; got: ${messages.map((m) => m.type).join(', ')}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`refused: ${res.statusCode} ${body.trim()}`), { status: res.statusCode })));
    });
    socket.once('error', reject);
  });
}
