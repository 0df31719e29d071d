import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryNameFor, writeFileAtomic } from '../../../src/util/atomic-write.js';

// A full disk and its cleanup are tested for real (a small tmpfs) in test/e2e/faults.test.ts.
describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'earshot-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces a file whole, through a hidden temporary name beside it that is gone afterwards', async () => {
    const path = join(dir, 'out.wav');
    writeFileSync(path, 'old');
    expect(temporaryNameFor(path)).toBe(join(dir, `.out.wav.${process.pid}.partial`));
    await writeFileAtomic(path, Buffer.from('new bytes'));
    expect(readFileSync(path, 'utf8')).toBe('new bytes');
    expect(readdirSync(dir)).toEqual(['out.wav']);
  });

  it('writes through a symbolic link to the file it points at, and keeps the link', async () => {
    const real = join(dir, 'real.wav');
    const link = join(dir, 'link.wav');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    await writeFileAtomic(link, Buffer.from('new'));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('new');
    expect(readdirSync(dir).sort()).toEqual(['link.wav', 'real.wav']);
  });

  it('writes a device as it is (no file is renamed over /dev/null)', async () => {
    await writeFileAtomic('/dev/null', Buffer.from('anything'));
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('fails with the file system\'s error and leaves nothing behind when the folder does not exist', async () => {
    const path = join(dir, 'missing', 'out.wav');
    await expect(writeFileAtomic(path, Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
