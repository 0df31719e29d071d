import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AccessPolicy, generateToken, isLoopbackHost } from '../../../src/server/access-policy.js';

const request = (url: string, headers: Record<string, string>) => ({ url, headers }) as unknown as IncomingMessage;

describe('isLoopbackHost', () => {
  it('knows the names and addresses only this machine reaches', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '127.0.0.1.example.com', 'localhost.example']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('AccessPolicy', () => {
  it('without a token: only requests that name this machine in Host', () => {
    const p = new AccessPolicy(undefined);
    expect(p.checkRequest(request('/', { host: '127.0.0.1:8765' }))).toEqual({ ok: true });
    expect(p.checkRequest(request('/', { host: 'localhost:8765' }))).toEqual({ ok: true });
    expect(p.checkRequest(request('/', { host: '[::1]:8765' }))).toEqual({ ok: true });
    expect(p.checkRequest(request('/', { host: 'rebound.example:8765' }))).toMatchObject({ ok: false, status: 403 });
    expect(p.checkRequest(request('/', {}))).toMatchObject({ ok: false, status: 400 });
    expect(p.cookieFor(request('/?token=x', { host: '127.0.0.1:1' }))).toBeUndefined();
  });

  it('with a token: in the URL or the cookie it set, compared in full', () => {
    const token = generateToken();
    const p = new AccessPolicy(token);
    const host = { host: 'kiosk.lan:8765' };
    expect(p.checkRequest(request(`/?token=${token}`, host))).toEqual({ ok: true });
    expect(p.checkRequest(request('/', host))).toMatchObject({ ok: false, status: 401 });
    expect(p.checkRequest(request(`/?token=${token.slice(0, -1)}`, host))).toMatchObject({ ok: false, status: 401 });
    expect(p.checkRequest(request(`/?token=${token}x`, host))).toMatchObject({ ok: false, status: 401 });
    const cookie = p.cookieFor(request(`/?token=${token}`, host))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(p.checkRequest(request('/app.js', { ...host, cookie: `other=1; ${cookie.split(';')[0]}` }))).toEqual({ ok: true });
    expect(p.cookieFor(request('/?token=wrong', host))).toBeUndefined();
  });

  it('sockets: the Origin, when sent, must be the page\'s own', () => {
    const p = new AccessPolicy(undefined);
    const host = '127.0.0.1:8765';
    expect(p.checkSocket(request('/ws', { host, origin: 'http://127.0.0.1:8765' }))).toEqual({ ok: true });
    expect(p.checkSocket(request('/ws', { host }))).toEqual({ ok: true });
    expect(p.checkSocket(request('/ws', { host, origin: 'http://127.0.0.1:9999' }))).toMatchObject({ ok: false, status: 403 });
    expect(p.checkSocket(request('/ws', { host, origin: 'http://evil.example' }))).toMatchObject({ ok: false, status: 403 });
    expect(p.checkSocket(request('/ws', { host, origin: 'null' }))).toMatchObject({ ok: false, status: 403 });
  });

  it('generates long, URL-safe, different tokens', () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generateToken()).not.toBe(a);
  });
});
