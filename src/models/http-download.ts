import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EarshotError, abortError } from '../errors.js';

export interface DownloadOptions {
  /** Aborting stops the transfer at once; the partial file stays for a later resume. */
  signal?: AbortSignal;
  /** Time without a single byte before an attempt counts as failed, ms. Default: 30000 (env EARSHOT_FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Further attempts after a network error, a stall or an HTTP 5xx/429, each resuming where the last stopped. Default: 4 (env EARSHOT_FETCH_RETRIES). */
  retries?: number;
  /** Delay before the first retry, doubled for each next one, ms. Default: 1000 (env EARSHOT_FETCH_BACKOFF_MS). */
  backoffMs?: number;
  /** Called as bytes arrive with the bytes on disk so far and the full size when the server says it. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Called when an attempt continues an existing partial file from `offset`. */
  onResume?: (offset: number) => void;
  /** Called before a retry with the reason and the delay. */
  onRetry?: (reason: string, delayMs: number) => void;
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** A failed attempt; `retry` says whether trying again (from where it stopped) can help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH']);
const MAX_REDIRECTS = 10;

function hostOf(url: string): string {
  return new URL(url).host;
}

/** Set when the idle timeout fired, so a broken body stream can be reported as a stall, not a lost connection. */
interface StallState {
  stalled?: AttemptError;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number, stall: StallState, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers, signal }, resolve);
    req.setTimeout(timeoutMs, () => {
      stall.stalled = new AttemptError(`no data from ${hostOf(url)} for ${timeoutMs / 1000} s`, true);
      req.destroy(stall.stalled);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof AttemptError || signal?.aborted) return reject(signal?.aborted ? abortError(signal) : e);
      if (e.code && UNREACHABLE.has(e.code)) {
        return reject(new AttemptError(`cannot reach ${hostOf(url)} (${e.code})`, true));
      }
      reject(new AttemptError(`connection to ${hostOf(url)} failed (${e.code ?? e.message})`, true));
    });
  });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** One GET (following redirects) that appends to `part`, resuming with a Range request when it already holds bytes. */
async function attempt(url: string, part: string, timeoutMs: number, options: DownloadOptions): Promise<void> {
  let offset = await fileSize(part);
  let current = url;
  let res: IncomingMessage | undefined;
  const stall: StallState = {};
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'earshot-fetch-models', 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    res = await request(current, headers, timeoutMs, stall, options.signal);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location && hop < MAX_REDIRECTS) {
      res.resume();
      current = new URL(res.headers.location, current).toString();
      continue;
    }
    if (status === 416 && offset > 0) {
      res.resume();
      const total = Number(/\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1]);
      if (total === offset) return;
      await truncate(part, 0);
      offset = 0;
      continue;
    }
    break;
  }
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) {
    res.resume();
    const retry = status >= 500 || status === 429 || status === 408;
    throw new AttemptError(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} from ${hostOf(current)}`, retry);
  }
  if (status === 206) {
    const start = Number(/bytes (\d+)-/.exec(res.headers['content-range'] ?? '')?.[1]);
    if (start !== offset) {
      res.resume();
      await truncate(part, 0);
      throw new AttemptError(`${hostOf(current)} answered the resume with the wrong range`, true);
    }
    options.onResume?.(offset);
  } else if (offset > 0) {
    // The server ignored Range: start over rather than append a second copy.
    await truncate(part, 0);
    offset = 0;
  }
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) ? offset + length : undefined;
  let received = offset;
  options.onProgress?.(received, total);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      options.onProgress?.(received, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, counter, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }), { signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted) throw abortError(options.signal);
    if (e instanceof AttemptError) throw e;
    if (stall.stalled) throw stall.stalled;
    throw new AttemptError(`connection to ${hostOf(current)} lost after ${received} bytes`, true);
  }
  if (total !== undefined && received < total) {
    throw new AttemptError(`connection to ${hostOf(current)} closed after ${received} of ${total} bytes`, true);
  }
}

/**
 * Downloads `urls` (tried in order) into the partial file `part`, resuming what is already there, retrying with
 * backoff. Does not verify: the caller hashes the finished file. Throws EarshotError('DOWNLOAD_FAILED') with one
 * line naming the host and what to do; an abort rejects with the signal's AbortError and keeps the partial file.
 */
export async function downloadFile(urls: readonly string[], part: string, label: string, options: DownloadOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? envNumber('EARSHOT_FETCH_TIMEOUT_MS', 30_000);
  const retries = options.retries ?? envNumber('EARSHOT_FETCH_RETRIES', 4);
  const backoffMs = options.backoffMs ?? envNumber('EARSHOT_FETCH_BACKOFF_MS', 1000);
  let last: AttemptError | undefined;
  for (const url of urls) {
    for (let i = 0; i <= retries; i++) {
      if (options.signal?.aborted) throw abortError(options.signal);
      try {
        await attempt(url, part, timeoutMs, options);
        return;
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e;
        last = e;
        if (!e.retry || i === retries) break;
        const delay = backoffMs * 2 ** i;
        options.onRetry?.(e.message, delay);
        await sleep(delay, undefined, { signal: options.signal }).catch(() => {
          throw abortError(options.signal);
        });
      }
    }
  }
  const reason = last?.message ?? 'no URL to try';
  const hint = last?.message.startsWith('cannot reach')
    ? 'no network? install from a copied folder with --from DIR (made by --export)'
    : last?.retry
    ? 'run the same command again to resume, or install from a copied folder with --from DIR'
    : 'the file is not at that address; check --mirror, or install from a copied folder with --from DIR';
  throw new EarshotError('DOWNLOAD_FAILED', `Download of ${label} failed: ${reason}; ${hint}.`);
}
