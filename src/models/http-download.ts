import { createWriteStream } from 'node:fs';
import { rm, stat, truncate } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EarshotError, abortError } from '../errors.js';
import { diskFullError, formatBytes, isDiskFull } from './disk-space.js';
import { envNumber } from '../util/env-number.js';
import { checkDownloadUrl, hostOf } from './url-policy.js';

export interface DownloadOptions {
  /** Aborting stops the transfer at once; the partial file stays for a later resume. */
  signal?: AbortSignal;
  /**
   * Most bytes the file may have. A server that sends more (or announces more) is cut off, and the partial file
   * deleted, before the disk fills. Required: every caller knows what it expects.
   */
  maxBytes: number;
  /**
   * Time the whole download may take, every attempt and retry included, ms. Default: downloadDeadlineMs(maxBytes),
   * so a server that trickles a byte at a time is given up on.
   */
  deadlineMs?: number;
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

/**
 * The default overall deadline for a download of `bytes`: a fixed allowance (env EARSHOT_FETCH_DEADLINE_BASE_MS,
 * default 120 s) plus the time the file takes at a slow but working rate (env EARSHOT_FETCH_MIN_RATE bytes/s,
 * default 100 kB/s): 77.7 MB then may take about 15 minutes.
 */
export function downloadDeadlineMs(bytes: number): number {
  const base = envNumber('EARSHOT_FETCH_DEADLINE_BASE_MS', 120_000);
  const rate = Math.max(1, envNumber('EARSHOT_FETCH_MIN_RATE', 100_000));
  return base + (bytes / rate) * 1000;
}

/** A failed attempt; `retry` says whether trying again (from where it stopped) can help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    /** Say so in the final line: the partial file was deleted (it could not be resumed). */
    readonly deleted = false,
  ) {
    super(message);
  }
}

const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH']);
const MAX_REDIRECTS = 10;

/** Set when the idle timeout fired, so a broken body stream can be reported as a stall, not a lost connection. */
interface StallState {
  stalled?: AttemptError;
}

function request(url: string, headers: Record<string, string>, timeoutMs: number, stall: StallState, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers, signal }, resolve);
    req.setTimeout(timeoutMs, () => {
      stall.stalled = new AttemptError(`no data from ${hostOf(url)} for ${timeoutMs / 1000} s`, true);
      req.destroy(stall.stalled);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof AttemptError || signal.aborted) return reject(signal.aborted ? abortError(signal) : e);
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

interface AttemptContext {
  part: string;
  timeoutMs: number;
  maxBytes: number;
  signal: AbortSignal;
  options: DownloadOptions;
}

/** Follows redirects (http(s) only, never from https down to http) to the response that carries the file. */
async function openResponse(url: string, offset: number, ctx: AttemptContext, stall: StallState): Promise<{ res: IncomingMessage; url: string; offset: number }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'earshot-fetch-models', 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await request(current, headers, ctx.timeoutMs, stall, ctx.signal);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location && hop < MAX_REDIRECTS) {
      res.resume();
      const next = new URL(res.headers.location, current).toString();
      const refused = checkDownloadUrl(next, current);
      if (refused) throw new AttemptError(`${hostOf(current)} redirected to ${refused}`, false);
      current = next;
      continue;
    }
    if (status === 416 && offset > 0) {
      res.resume();
      const total = Number(/\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1]);
      if (total === offset) return { res, url: current, offset };
      await truncate(ctx.part, 0);
      offset = 0;
      continue;
    }
    return { res, url: current, offset };
  }
}

/** One GET (following redirects) that appends to `part`, resuming with a Range request when it already holds bytes. */
async function attempt(url: string, ctx: AttemptContext): Promise<void> {
  const { part, maxBytes, options } = ctx;
  const stall: StallState = {};
  let kept = await fileSize(part);
  if (kept > maxBytes) {
    // A partial file bigger than the whole model is not worth resuming.
    await truncate(part, 0);
    kept = 0;
  }
  const opened = await openResponse(url, kept, ctx, stall);
  const { res, url: current } = opened;
  let offset = opened.offset;
  const status = res.statusCode ?? 0;
  if (status === 416) return;
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
  const tooBig = (bytes: number) =>
    new AttemptError(`${hostOf(current)} sent more than the ${formatBytes(maxBytes)} expected (${bytes} bytes)`, false, true);
  if (total !== undefined && total > maxBytes) {
    res.resume();
    throw tooBig(total);
  }
  let received = offset;
  options.onProgress?.(received, total);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > maxBytes) return done(tooBig(received));
      options.onProgress?.(received, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, counter, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }), { signal: ctx.signal });
  } catch (e) {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    if (e instanceof AttemptError) throw e;
    if (isDiskFull(e)) throw e;
    if (stall.stalled) throw stall.stalled;
    throw new AttemptError(`connection to ${hostOf(current)} lost after ${received} bytes`, true);
  }
  if (total !== undefined && received < total) {
    throw new AttemptError(`connection to ${hostOf(current)} closed after ${received} of ${total} bytes`, true);
  }
}

/** Tries each URL with retries; resolves undefined on success, else with the last failed attempt. */
async function tryUrls(urls: readonly string[], ctx: AttemptContext, policy: { retries: number; backoffMs: number }): Promise<AttemptError | undefined> {
  let last: AttemptError | undefined;
  for (const url of urls) {
    const refused = checkDownloadUrl(url);
    if (refused) {
      last = new AttemptError(`refusing ${refused}`, false);
      continue;
    }
    for (let i = 0; i <= policy.retries; i++) {
      try {
        await attempt(url, ctx);
        return undefined;
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e;
        last = e;
        if (!e.retry || i === policy.retries) break;
        const delay = policy.backoffMs * 2 ** i;
        ctx.options.onRetry?.(e.message, delay);
        await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {
          throw abortError(ctx.signal);
        });
      }
    }
    if (last?.deleted) break;
  }
  return last;
}

/**
 * Downloads `urls` (tried in order) into the partial file `part`, resuming what is already there, retrying with
 * backoff, within a size cap and an overall deadline. Only https URLs are fetched (plain http only from this
 * machine itself, for a loopback mirror). Does not verify: the caller hashes the finished file. Throws
 * EarshotError('DOWNLOAD_FAILED') with one line naming the host and what to do, or 'DISK_FULL'; an abort
 * rejects with the signal's AbortError and keeps the partial file.
 */
export async function downloadFile(urls: readonly string[], part: string, label: string, options: DownloadOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? envNumber('EARSHOT_FETCH_TIMEOUT_MS', 30_000);
  const retries = options.retries ?? envNumber('EARSHOT_FETCH_RETRIES', 4);
  const backoffMs = options.backoffMs ?? envNumber('EARSHOT_FETCH_BACKOFF_MS', 1000);
  const deadlineMs = options.deadlineMs ?? downloadDeadlineMs(options.maxBytes);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), deadlineMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const ctx: AttemptContext = { part, timeoutMs, maxBytes: options.maxBytes, signal, options };
  const fail = async (reason: string, hint: string, deleted: boolean): Promise<never> => {
    if (deleted) await rm(part, { force: true });
    throw new EarshotError('DOWNLOAD_FAILED', `Download of ${label} failed: ${reason}${deleted ? '; the partial download was deleted' : ''}; ${hint}.`);
  };
  let last: AttemptError | undefined;
  try {
    last = await tryUrls(urls, ctx, { retries, backoffMs });
    if (last === undefined) return;
  } catch (e) {
    if (deadline.signal.aborted && !options.signal?.aborted) {
      return fail(`it took longer than ${Math.round(deadlineMs / 1000)} s`, 'check the connection, then run the same command again to resume', false);
    }
    if (isDiskFull(e)) {
      await rm(part, { force: true });
      throw diskFullError(`while downloading ${label} (the partial download was deleted)`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const reason = last?.message ?? 'no URL to try';
  const hint = last?.message.startsWith('cannot reach')
    ? 'no network? install from a copied folder with --from DIR (made by --export)'
    : last?.retry
      ? 'run the same command again to resume, or install from a copied folder with --from DIR'
      : last?.deleted
        ? 'the server is not sending this model; check --mirror, or install from a copied folder with --from DIR'
        : 'the file is not at that address; check --mirror, or install from a copied folder with --from DIR';
  return fail(reason, hint, last?.deleted ?? false);
}
