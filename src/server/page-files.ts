import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Everything the page may load comes from this server: scripts, styles, worklets and sockets of its own
 * origin, nothing else (no CDN, no remote font). The token travels in the page's URL, so no referrer is sent.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "media-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** The folder of the page's files, shipped with the package beside dist/. */
export function pageDir(): string {
  return join(packageRoot(), 'web');
}

interface PageFile {
  body: Buffer;
  type: string;
}

/**
 * The page's files, read once at start. Only names listed here are served: a request path is a key in this
 * table, never a path on disk, so nothing outside the folder can be reached.
 */
export class PageFiles {
  private readonly files = new Map<string, PageFile>();

  constructor(dir: string = pageDir()) {
    for (const name of readdirSync(dir)) {
      const type = CONTENT_TYPES[extname(name)];
      if (type) this.files.set(`/${name}`, { body: readFileSync(join(dir, name)), type });
    }
    if (!this.files.has('/index.html')) throw new Error(`the web page is missing from ${dir} (index.html); reinstall earshot`);
  }

  /** Writes the file for `pathname` ('/' is index.html); false when there is no such file. */
  serve(pathname: string, res: ServerResponse, extraHeaders: Record<string, string> = {}): boolean {
    const file = this.files.get(pathname === '/' ? '/index.html' : pathname);
    if (!file) return false;
    res.writeHead(200, { ...SECURITY_HEADERS, ...extraHeaders, 'Content-Type': file.type, 'Content-Length': file.body.length });
    res.end(file.body);
    return true;
  }
}
