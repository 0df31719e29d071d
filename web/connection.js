// @ts-check
import { decodeFrame, encodeFrame } from './pcm-frame.js';

/** @typedef {import('../src/server/protocol.js').ServerMessage} ServerMessage */
/** @typedef {import('../src/server/protocol.js').ClientMessage} ClientMessage */

const SUBPROTOCOL = 'earshot.v1';
/** Close codes after which reconnecting at once would only be refused again. */
const CLOSE_BUSY = 1013;
const CLOSE_IDLE = 4001;

/**
 * @typedef {object} ConnectionHandlers
 * @property {(message: ServerMessage) => void} message
 * @property {(frame: { samples: Float32Array, sampleRate: number, turn: number }) => void} audio
 * @property {(status: 'connecting' | 'open' | 'closed' | 'busy' | 'idle', detail: string) => void} status
 */

/**
 * The page's socket to earshot: JSON control messages and binary PCM frames on one WebSocket of the page's own
 * origin. It reconnects with backoff after a drop, but not after "busy" or "idle": then the page waits for the
 * user (reconnect()).
 */
export class Connection {
  /**
   * @param {string} token the page's own ?token=, passed on to the socket ('' when there is none)
   * @param {ConnectionHandlers} handlers
   */
  constructor(token, handlers) {
    this.url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    this.handlers = handlers;
    /** @type {WebSocket | undefined} */
    this.socket = undefined;
    this.backoffMs = 500;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retry = undefined;
  }

  get open() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retry);
    this.handlers.status('connecting', '');
    const socket = new WebSocket(this.url, SUBPROTOCOL);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.backoffMs = 500;
      this.handlers.status('open', '');
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') {
        this.handlers.message(/** @type {ServerMessage} */ (JSON.parse(event.data)));
        return;
      }
      const frame = decodeFrame(/** @type {ArrayBuffer} */ (event.data));
      if (frame) this.handlers.audio(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (event.code === CLOSE_BUSY) return this.handlers.status('busy', event.reason);
      if (event.code === CLOSE_IDLE) return this.handlers.status('idle', event.reason);
      this.handlers.status('closed', event.reason || `code ${event.code}`);
      this.retry = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 8000);
    };
  }

  /** @param {ClientMessage} message */
  send(message) {
    if (this.open) this.socket?.send(JSON.stringify(message));
  }

  /**
   * @param {Float32Array} samples
   * @param {number} sampleRate
   */
  sendAudio(samples, sampleRate) {
    if (this.open) this.socket?.send(encodeFrame(samples, sampleRate));
  }
}
