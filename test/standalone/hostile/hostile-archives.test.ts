import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFetchModels } from '../../support/fetch-models-run.js';
import type { TestServer } from '../models/test-server.js';
import { HOSTILE_ROOT, caseDir, leftovers, startHostile, writeFileIn, writeManifest } from './hostile-fixtures.js';

/**
 * Voice archives without an upstream digest are unpacked on first download: a crafted archive must not plant a
 * setuid or foreign-owned file, a link out of the folder, or fill the disk.
 */
let server: TestServer;
let manifest: string;
const ARCHIVE_SIZE = 10_000;

/** A tar.bz2 of `dir`'s folder `v` made by the system tar with `extra` flags, served as the voice archive. */
function serveArchive(root: string, extra: string[] = []): void {
  const archive = join(root, 'voice.tar.bz2');
  execFileSync('tar', ['-cjf', archive, ...extra, '-C', join(root, 'src'), 'v']);
  server.serve('/voice.tar.bz2', readFileSync(archive));
}

beforeAll(async () => {
  ({ server } = await startHostile());
  manifest = writeManifest(HOSTILE_ROOT, [
    {
      id: 'xx-voice',
      role: 'tts',
      label: 'a voice archive without an upstream digest',
      licence: 'MIT',
      path: '.',
      files: [
        {
          name: 'voice.tar.bz2',
          urls: [`${server.url}/voice.tar.bz2`],
          size: ARCHIVE_SIZE,
          sizeApproximate: true,
          trust: 'first-use',
          hashSource: 'none published upstream',
          archive: { format: 'tar.bz2', stripPrefix: 'v/', keep: ['voice.onnx', 'espeak-ng-data'] },
        },
      ],
    },
  ]);
});

afterAll(async () => {
  await server.close();
  rmSync(HOSTILE_ROOT, { recursive: true, force: true });
});

const install = (models: string) => runFetchModels(['--voice', 'xx-voice', '--force', '--models-dir', models], manifest);

function expectRefused(r: { code: number; err: string; lastLine: string }, pattern: RegExp, models: string): void {
  expect(r.code, r.err).toBe(1);
  expect(r.lastLine).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(existsSync(join(models, 'tts', 'xx-voice'))).toBe(false);
  expect(leftovers(models)).toEqual([]);
}

describe('archives', () => {
  it('keeps no owner, setuid or permission bits from the archive', async () => {
    const { root, models } = caseDir('modes');
    writeFileIn(join(root, 'src', 'v', 'voice.onnx'), randomBytes(2000));
    writeFileIn(join(root, 'src', 'v', 'espeak-ng-data', 'phontab'), 'x');
    serveArchive(root, ['--owner=4242', '--group=4242', '--mode=u+s,g+s,a+rwx', '--numeric-owner']);
    const r = await install(models);
    expect(r.code, r.err).toBe(0);
    for (const file of ['voice.onnx', 'espeak-ng-data/phontab']) {
      const st = lstatSync(join(models, 'tts', 'xx-voice', file));
      expect(st.mode & 0o7777, file).toBe(0o644 & ~process.umask());
      expect(st.uid).toBe(process.getuid!());
    }
  });

  it('refuses a link, inside or out of the folder', async () => {
    const { root, models } = caseDir('links');
    writeFileIn(join(root, 'src', 'v', 'voice.onnx'), randomBytes(2000));
    mkdirSync(join(root, 'src', 'v', 'espeak-ng-data'), { recursive: true });
    symlinkSync('/etc/passwd', join(root, 'src', 'v', 'espeak-ng-data', 'phontab'));
    serveArchive(root);
    expectRefused(await install(models), /^voice\.tar\.bz2 \(tts xx-voice\) holds espeak-ng-data\/phontab as a SymbolicLink to \/etc\/passwd; earshot installs regular files only; nothing was installed\.$/, models);
    const { root: root2, models: models2 } = caseDir('hardlinks');
    writeFileIn(join(root2, 'src', 'v', 'voice.onnx'), randomBytes(2000));
    writeFileIn(join(root2, 'src', 'v', 'espeak-ng-data', 'phontab'), 'x');
    execFileSync('ln', [join(root2, 'src', 'v', 'voice.onnx'), join(root2, 'src', 'v', 'espeak-ng-data', 'hard')]);
    serveArchive(root2);
    expectRefused(await install(models2), /holds (espeak-ng-data\/hard|voice\.onnx) as a Link to v\/(voice\.onnx|espeak-ng-data\/hard); earshot installs regular files only/, models2);
  });

  it('refuses an entry that climbs out of the folder', async () => {
    const { root, models } = caseDir('climb');
    writeFileIn(join(root, 'src', 'v', 'voice.onnx'), randomBytes(2000));
    writeFileIn(join(root, 'src', 'escaped.txt'), 'x');
    const archive = join(root, 'voice.tar.bz2');
    execFileSync('tar', ['-cjf', archive, '-C', join(root, 'src'), 'v', '--transform=s,^escaped,v/../../../escaped,', 'escaped.txt', '-P']);
    server.serve('/voice.tar.bz2', readFileSync(archive));
    expectRefused(await install(models), /holds the entry "v\/\.\.\/\.\.\/\.\.\/escaped\.txt", which points outside its folder/, models);
    expect(existsSync(join(models, '..', 'escaped.txt'))).toBe(false);
  });

  it('stops a small archive that unpacks to far more than a voice of its size, leaving nothing behind', async () => {
    const { root, models } = caseDir('bomb');
    writeFileIn(join(root, 'src', 'v', 'voice.onnx'), '');
    // 200 MB of zeros compress to a few hundred bytes; the sparse file costs no disk here.
    truncateSync(join(root, 'src', 'v', 'voice.onnx'), 200 * 2 ** 20);
    serveArchive(root);
    const started = performance.now();
    expectRefused(await install(models), /^voice\.tar\.bz2 \(tts xx-voice\) unpacks to more than \d+ MB, more than a model of its size can hold; nothing was installed\.$/, models);
    expect(performance.now() - started).toBeLessThan(60_000);
  });
});
