/** Where the web server listens and what it lets in. */
export interface ServeOptions {
  /** Address to bind. Default: '127.0.0.1' (this machine only). Any other address needs `token`. */
  host: string;
  /** TCP port; 0 picks a free one. Default: 8765. */
  port: number;
  /**
   * Secret the page and every socket must present (`?token=` in the URL; the page then keeps it in a
   * same-site cookie). Default: none on a loopback address; the CLI generates one for any other.
   */
  token?: string;
  /** Conversations at once; a further connection is told it is busy and closed. Default: 2. */
  maxSessions: number;
  /** Largest message accepted, bytes; a larger one is answered with an `error` and dropped. Default: 256 KiB. */
  maxMessageBytes: number;
  /**
   * A session from which nothing (audio or control) arrived for this long is closed, freeing its slot. A page
   * listening hands-free sends audio all the time. Default: 5 minutes.
   */
  idleTimeoutMs: number;
  /** Ping interval; a peer that has not answered the previous ping is dropped. Default: 20 s. */
  heartbeatMs: number;
  /**
   * How far ahead of real time reply audio is sent, ms: the page's buffer against network jitter. The page
   * drops it on an interruption, so it does not delay silence. Default: 100.
   */
  audioLeadMs: number;
}

export const defaultServeOptions: ServeOptions = {
  host: '127.0.0.1',
  port: 8765,
  maxSessions: 2,
  maxMessageBytes: 256 * 1024,
  idleTimeoutMs: 5 * 60_000,
  heartbeatMs: 20_000,
  audioLeadMs: 100,
};

/**
 * Messages above this are not even buffered: the WebSocket library closes the connection (code 1009). Below
 * it and above `maxMessageBytes`, the client gets an `error` back and the session goes on.
 */
export const HARD_MESSAGE_LIMIT_FACTOR = 16;
