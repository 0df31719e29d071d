import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export type AccessDecision = { ok: true } | { ok: false; status: 400 | 401 | 403; reason: string };

const TOKEN_COOKIE = 'earshot_token';

/** True for addresses and names that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** A token for the URL: 24 random bytes, URL-safe. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the secret.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function hostName(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(hostHeader);
  return m ? m[1] : hostHeader;
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * Who may load the page and open a socket. With no token (loopback only), requests must name this machine in
 * their Host header, so a web site that rebinds its DNS name to 127.0.0.1 cannot reach the server. With a
 * token, every request presents it (URL or cookie). A socket's Origin, when the client sends one (browsers
 * always do), must be the page's own.
 */
export class AccessPolicy {
  constructor(private readonly token: string | undefined) {}

  /** The page, its files and the socket: Host, then token. */
  checkRequest(req: IncomingMessage): AccessDecision {
    const host = req.headers.host;
    if (!host) return { ok: false, status: 400, reason: 'no Host header' };
    if (this.token === undefined) {
      return isLoopbackHost(hostName(host))
        ? { ok: true }
        : { ok: false, status: 403, reason: `Host ${host} is not this machine; serve with --token to allow other names` };
    }
    const presented = this.presentedToken(req);
    if (presented === undefined) return { ok: false, status: 401, reason: 'a token is required: open the URL earshot serve printed' };
    return sameSecret(presented, this.token) ? { ok: true } : { ok: false, status: 401, reason: 'wrong token' };
  }

  /** The socket: the request checks, then a same-origin Origin. */
  checkSocket(req: IncomingMessage): AccessDecision {
    const base = this.checkRequest(req);
    if (!base.ok) return base;
    const origin = req.headers.origin;
    if (origin === undefined) return { ok: true };
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return { ok: false, status: 403, reason: `bad Origin ${origin}` };
    }
    return originHost === req.headers.host ? { ok: true } : { ok: false, status: 403, reason: `Origin ${origin} is not this page's` };
  }

  /** A Set-Cookie value when the request carried a valid token in its URL, so the page's own loads need no URL. */
  cookieFor(req: IncomingMessage): string | undefined {
    if (this.token === undefined) return undefined;
    const fromUrl = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    if (fromUrl === null || !sameSecret(fromUrl, this.token)) return undefined;
    return `${TOKEN_COOKIE}=${encodeURIComponent(fromUrl)}; Path=/; HttpOnly; SameSite=Strict`;
  }

  private presentedToken(req: IncomingMessage): string | undefined {
    return new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? cookieToken(req);
  }
}
