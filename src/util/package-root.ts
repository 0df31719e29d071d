import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder holding earshot's package.json: the nearest one above this module whose name is "earshot".
 * Walking up (never process.cwd(), never a fixed `../..`) keeps it right from src/ under tsx, from dist/ after
 * tsc, and from node_modules/earshot when embedded.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'earshot') {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the earshot package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
