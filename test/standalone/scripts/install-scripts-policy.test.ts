import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };

/** A package's name in an allowScripts key (`name` or `name@version`, scoped names included). */
const keyName = (key: string) => key.replace(/(?<=.)@[^@/]*$/, '');

/** Every installed package that runs code at install time, as npm decides it: a lifecycle script, or a binding.gyp. */
function packagesWithInstallScripts(dir: string, found = new Set<string>()): Set<string> {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(join(dir, entry))) visit(join(dir, entry, scoped), found);
    } else {
      visit(join(dir, entry), found);
    }
  }
  return found;
}

function visit(pkgDir: string, found: Set<string>): void {
  const manifest = join(pkgDir, 'package.json');
  if (!existsSync(manifest)) return;
  const p = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; scripts?: Record<string, string>; gypfile?: boolean };
  const scripts = p.scripts ?? {};
  const gyp = existsSync(join(pkgDir, 'binding.gyp')) && p.gypfile !== false;
  if (scripts.preinstall || scripts.install || scripts.postinstall || gyp) found.add(p.name);
  packagesWithInstallScripts(join(pkgDir, 'node_modules'), found);
}

describe('install scripts', () => {
  it('every installed dependency that runs an install script is reviewed in package.json allowScripts', () => {
    const reviewed = new Set(Object.keys(pkg.allowScripts ?? {}).map(keyName));
    const unreviewed = [...packagesWithInstallScripts(join(ROOT, 'node_modules'))].filter((name) => !reviewed.has(name));
    expect(unreviewed, 'review them with npm install-scripts approve|deny <pkg>').toEqual([]);
  });

  it("onnxruntime-node's script (a CUDA download from outside the npm registry) is denied, and no .npmrc key stands in for it", () => {
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    const npmrc = join(ROOT, '.npmrc');
    if (existsSync(npmrc)) expect(readFileSync(npmrc, 'utf8')).not.toMatch(/onnxruntime/);
  });
});
