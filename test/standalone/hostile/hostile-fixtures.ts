import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../../src/util/package-root.js';
import { freshDir, sha256 } from '../../support/manifest-fixtures.js';
import { startTestServer, type TestServer } from '../models/test-server.js';

export { pinnedEntry, sha256, writeManifest } from '../../support/manifest-fixtures.js';

/** Everything a hostile test writes lives under here, removed at the end. */
export const HOSTILE_ROOT = join(packageRoot(), '.cache', 'test-hostile', String(process.pid));

/** A loopback server and an emptied HOSTILE_ROOT, for a test file's beforeAll. */
export async function startHostile(): Promise<{ server: TestServer; url: (name: string) => string }> {
  const server = await startTestServer();
  rmSync(HOSTILE_ROOT, { recursive: true, force: true });
  mkdirSync(HOSTILE_ROOT, { recursive: true });
  process.env.EARSHOT_FETCH_RETRIES = '0';
  return { server, url: (name) => `${server.url}/${name}` };
}

/** A fresh folder for one case, with an empty `models/` inside it. */
export function caseDir(name: string): { root: string; models: string } {
  const root = freshDir(HOSTILE_ROOT, name);
  mkdirSync(join(root, 'models'), { recursive: true });
  return { root, models: join(root, 'models') };
}

export function writeFileIn(path: string, body: Buffer | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  return path;
}

/** A source folder's lock file, listing `files` (path -> body) for one model. */
export function writeSourceLock(dir: string, id: string, role: string, files: Record<string, Buffer>): void {
  const entries = Object.fromEntries(Object.entries(files).map(([p, b]) => [p, { sha256: sha256(b), size: b.length }]));
  writeFileIn(join(dir, 'earshot-lock.json'), JSON.stringify({ version: 1, models: { [id]: { role, installedAt: new Date().toISOString(), files: entries, downloads: {} } } }));
}

/** A copied models folder holding `files` for one model, and a lock file that lists exactly them. */
export function writeSource(dir: string, role: string, id: string, files: Record<string, Buffer>): void {
  for (const [path, body] of Object.entries(files)) writeFileIn(join(dir, role, id, path), body);
  writeSourceLock(dir, id, role, files);
}

/** Names left in `models/.partial` that a failed run should have removed (staging, scratch). */
export function leftovers(models: string): string[] {
  const partial = join(models, '.partial');
  return existsSync(partial) ? readdirSync(partial).filter((n) => !n.endsWith('.part')) : [];
}
