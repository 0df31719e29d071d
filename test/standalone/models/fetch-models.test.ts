import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchModelsCommand } from '../../../src/cli/fetch-models.js';
import { resolveModel } from '../../../src/models/resolve.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { runFetchModels } from '../../support/fetch-models-run.js';
import { freshDir as freshDirIn, pinnedEntry, sha256 } from '../../support/manifest-fixtures.js';
import { startTestServer, type TestServer } from './test-server.js';

const root = join(packageRoot(), '.cache', 'test-fetch-models', String(process.pid));
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

let server: TestServer;
let manifestPath: string;
const good = randomBytes(2_000_000);
const resumable = randomBytes(3_000_000);
const voiceOnnx = randomBytes(200_000);
let voiceArchive: Buffer;

const fileEntry = (id: string, role: string, name: string, body: Buffer, extra: Record<string, unknown> = {}) =>
  pinnedEntry(id, role, name, body, `${server.url}/${name}`, extra);

const run = (args: string[]) => runFetchModels(args, manifestPath);

const freshDir = (name: string) => freshDirIn(root, name);

beforeAll(async () => {
  server = await startTestServer();
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const voiceSrc = join(root, 'voice-src', 'vits-piper-xx_XX-test-low');
  mkdirSync(join(voiceSrc, 'espeak-ng-data', 'voices'), { recursive: true });
  writeFileSync(join(voiceSrc, 'xx_XX-test-low.onnx'), voiceOnnx);
  writeFileSync(join(voiceSrc, 'tokens.txt'), '_ 0\n^ 1\n$ 2\n');
  writeFileSync(join(voiceSrc, 'espeak-ng-data', 'phontab'), 'phonemes');
  writeFileSync(join(voiceSrc, 'espeak-ng-data', 'voices', 'en'), 'voice');
  writeFileSync(join(voiceSrc, 'README.md'), 'dropped on install');
  execFileSync('tar', ['-cjf', join(root, 'voice.tar.bz2'), '-C', join(root, 'voice-src'), 'vits-piper-xx_XX-test-low']);
  voiceArchive = readFileSync(join(root, 'voice.tar.bz2'));

  server.serve('/good.bin', good);
  server.serve('/resumable.bin', resumable, 'drop-once');
  server.serve('/stall.bin', good, 'stall');
  server.serve('/vits-piper-xx_XX-test-low.tar.bz2', voiceArchive);
  const manifest = {
    schemaVersion: 1,
    defaultPreset: 'small',
    presets: {
      small: { label: 'test', ramGb: 1, models: { stt: 'good', tts: 'xx_XX-test-low' } },
      tiny: { label: 'test', ramGb: 1, models: { stt: 'good' } },
    },
    models: [
      fileEntry('good', 'stt', 'good.bin', good, { digest: { algorithm: 'sha1', value: sha1(good) } }),
      fileEntry('resumable', 'stt', 'resumable.bin', resumable),
      fileEntry('badsha', 'stt', 'good.bin', good, { digest: { algorithm: 'sha256', value: 'ab'.repeat(32) } }),
      fileEntry('missing', 'llm', 'missing.gguf', good),
      fileEntry('stall', 'llm', 'stall.bin', good),
      {
        id: 'xx_XX-test-low',
        role: 'tts',
        label: 'test voice',
        licence: 'MIT',
        path: '.',
        files: [{
          name: 'vits-piper-xx_XX-test-low.tar.bz2',
          urls: [`${server.url}/vits-piper-xx_XX-test-low.tar.bz2`],
          size: voiceArchive.length,
          trust: 'first-use',
          hashSource: 'none: trusted on first use',
          archive: { format: 'tar.bz2', stripPrefix: 'vits-piper-xx_XX-test-low/', keep: ['xx_XX-test-low.onnx', 'tokens.txt', 'espeak-ng-data'] },
        }],
      },
    ],
  };
  manifestPath = join(root, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest));
  process.env.EARSHOT_FETCH_BACKOFF_MS = '10';
  process.env.EARSHOT_FETCH_RETRIES = '0';
  process.env.EARSHOT_FETCH_TIMEOUT_MS = '400';
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

afterEach(() => {
  process.env.EARSHOT_FETCH_RETRIES = '0';
});

describe('fetch-models downloads', () => {
  it('downloads, verifies (sha1 pin) and installs a file that resolveModel then finds', async () => {
    const dir = freshDir('good');
    const r = await run(['--stt', 'good', '--models-dir', dir]);
    expect(r.code, r.err).toBe(0);
    const resolved = resolveModel('stt', 'good', { modelsDir: dir, manifestPath });
    expect(resolved.path).toBe(join(dir, 'stt', 'good', 'good.bin'));
    expect(readFileSync(resolved.path).equals(good)).toBe(true);
    const lock = JSON.parse(readFileSync(join(dir, 'earshot-lock.json'), 'utf8'));
    expect(lock.models.good.files['good.bin'].sha256).toBe(sha256(good));
    expect(r.err).toContain('good: good.bin verified');
    const again = await run(['--stt', 'good', '--models-dir', dir]);
    expect(again.err).toContain('already installed');
  });

  it('deletes the partial file and installs nothing when the digest does not match', async () => {
    const dir = freshDir('badsha');
    const r = await run(['--stt', 'badsha', '--models-dir', dir]);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines.at(-1)).toMatch(/good\.bin failed verification: sha256 .* is not the pinned abab.*partial download was deleted, nothing was installed/);
    expect(existsSync(join(dir, 'stt', 'badsha'))).toBe(false);
    expect(readdirSync(join(dir, '.partial')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('resumes with a Range request after the server dropped the connection and ends byte-identical', async () => {
    const dir = freshDir('resume');
    const first = await run(['--stt', 'resumable', '--models-dir', dir]);
    expect(first.code).toBe(1);
    expect(first.err.trim().split('\n').at(-1)).toMatch(/Download of resumable\.bin .* failed: connection to 127\.0\.0\.1:\d+ (lost|closed) after .*run the same command again to resume/);
    const part = join(dir, '.partial', 'resumable--resumable.bin.part');
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(resumable.length);
    const second = await run(['--stt', 'resumable', '--models-dir', dir]);
    expect(second.code, second.err).toBe(0);
    expect(server.ranges.get('/resumable.bin')?.at(-1)).toBe(`bytes=${kept}-`);
    expect(second.err).toContain(`resuming resumable.bin`);
    expect(readFileSync(join(dir, 'stt', 'resumable', 'resumable.bin')).equals(resumable)).toBe(true);
  });

  it('retries within one run when retries are allowed', async () => {
    const dir = freshDir('retry');
    server.serve('/resumable.bin', resumable, 'drop-once');
    process.env.EARSHOT_FETCH_RETRIES = '2';
    const r = await run(['--stt', 'resumable', '--models-dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/retrying in/);
    expect(readFileSync(join(dir, 'stt', 'resumable', 'resumable.bin')).equals(resumable)).toBe(true);
  });

  it('gives one clear line and a non-zero exit for a 404', async () => {
    const r = await run(['--llm', 'missing', '--models-dir', freshDir('404')]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').at(-1)).toMatch(/^Download of missing\.gguf \(llm missing\) failed: HTTP 404 Not Found from 127\.0\.0\.1:\d+; .*--from DIR\.$/);
  });

  it('gives one clear line and a non-zero exit when the server stalls', async () => {
    const started = performance.now();
    const r = await run(['--llm', 'stall', '--models-dir', freshDir('stall')]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').at(-1)).toMatch(/failed: no data from 127\.0\.0\.1:\d+ for 0\.4 s; run the same command again to resume/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('names the unreachable host and --from when there is no network', async () => {
    const closed = await startTestServer();
    const url = closed.url;
    await closed.close();
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    m.models.push({ ...m.models[0], id: 'offline', files: [{ ...m.models[0].files[0], urls: [`${url}/good.bin`] }] });
    const offlineManifest = join(root, 'offline-manifest.json');
    writeFileSync(offlineManifest, JSON.stringify(m));
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await fetchModelsCommand(['--stt', 'offline', '--manifest', offlineManifest, '--models-dir', freshDir('offline')], { stdout: new PassThrough(), stderr });
    expect(code).toBe(1);
    expect(err.trim().split('\n').at(-1)).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*--from DIR/);
  });

  it('installs an unpinned voice archive, trusting it on first use, keeping only the listed files', async () => {
    const dir = freshDir('voice');
    const r = await run(['--voice', 'xx_XX-test-low', '--models-dir', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('trusted on first use');
    const voice = resolveModel('tts', 'xx_XX-test-low', { modelsDir: dir, manifestPath });
    expect(readdirSync(voice.path).sort()).toEqual(['espeak-ng-data', 'tokens.txt', 'xx_XX-test-low.onnx']);
    const lock = JSON.parse(readFileSync(join(dir, 'earshot-lock.json'), 'utf8'));
    expect(lock.models['xx_XX-test-low'].downloads['vits-piper-xx_XX-test-low.tar.bz2']).toMatchObject({ sha256: sha256(voiceArchive), trustedOnFirstUse: true });
    server.serve('/vits-piper-xx_XX-test-low.tar.bz2', randomBytes(1000));
    const changed = await run(['--voice', 'xx_XX-test-low', '--models-dir', dir, '--force']);
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/differs from the copy trusted on first use/);
    server.serve('/vits-piper-xx_XX-test-low.tar.bz2', voiceArchive);
  });
});

describe('fetch-models air-gapped and checks', () => {
  it('round-trips --export and --from, verifying every file, and --mirror serves the same layout', async () => {
    const online = freshDir('online');
    expect((await run(['--models-dir', online])).code).toBe(0);
    const usb = join(root, 'usb');
    rmSync(usb, { recursive: true, force: true });
    const exported = await run(['--export', usb, '--models-dir', online]);
    expect(exported.code, exported.err).toBe(0);
    expect(existsSync(join(usb, 'model-manifest.json'))).toBe(true);
    const kiosk = freshDir('kiosk');
    const refused = await run(['--from', usb, '--models-dir', kiosk]);
    expect(refused.code).toBe(1);
    expect(refused.err.trim().split('\n').at(-1)).toMatch(/^xx_XX-test-low has no upstream digest in the manifest, so a copy from .*usb cannot be checked; .*--trust-source/);
    const installed = await run(['--from', usb, '--trust-source', '--models-dir', kiosk]);
    expect(installed.code, installed.err).toBe(0);
    expect(installed.err).toMatch(/xx_XX-test-low: tokens\.txt has no upstream digest; accepted from .*usb because of --trust-source/);
    expect(readFileSync(join(kiosk, 'stt', 'good', 'good.bin')).equals(good)).toBe(true);
    expect(readFileSync(join(kiosk, 'tts', 'xx_XX-test-low', 'xx_XX-test-low.onnx')).equals(voiceOnnx)).toBe(true);
    expect((await run(['--check', '--models-dir', kiosk])).code).toBe(0);

    server.serveDir('mirror', usb);
    const mirrored = freshDir('mirrored');
    const viaMirror = await run(['--mirror', `${server.url}/mirror`, '--trust-source', '--models-dir', mirrored]);
    expect(viaMirror.code, viaMirror.err).toBe(0);
    expect(readFileSync(join(mirrored, 'stt', 'good', 'good.bin')).equals(good)).toBe(true);

    writeFileSync(join(usb, 'stt', 'good', 'good.bin'), randomBytes(good.length));
    const tampered = await run(['--from', usb, '--stt', 'good', '--models-dir', freshDir('kiosk2')]);
    expect(tampered.code).toBe(1);
    expect(tampered.err.trim().split('\n').at(-1)).toMatch(/^good\.bin of good from .*usb failed verification: sha1 mismatch \(expected [0-9a-f]{40}, got [0-9a-f]{40}\); nothing was installed/);
  });

  it('--check names a corrupted file and the command that replaces it', async () => {
    const dir = freshDir('check');
    expect((await run(['--stt', 'good', '--models-dir', dir])).code).toBe(0);
    const file = join(dir, 'stt', 'good', 'good.bin');
    const bytes = readFileSync(file);
    bytes[1000] ^= 0xff;
    writeFileSync(file, bytes);
    const r = await run(['--check', '--models-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`CORRUPT ${file}: sha256 mismatch`);
    expect(r.err).toContain('replace it with: npm run fetch-models -- --stt good --force');
    expect((await run(['--stt', 'good', '--force', '--models-dir', dir])).code).toBe(0);
    expect((await run(['--check', '--models-dir', dir])).code).toBe(0);
  });

  it('rejects an unknown preset or model name with one line listing the valid ones', async () => {
    const preset = await run(['--preset', 'huge', '--models-dir', freshDir('bad')]);
    expect(preset.code).toBe(1);
    expect(preset.err).toBe('Unknown preset "huge". Valid presets: small, tiny\n');
    const name = await run(['--stt', 'nope', '--models-dir', freshDir('bad')]);
    expect(name.code).toBe(1);
    expect(name.err).toBe('Unknown stt model "nope". Valid --stt names: good, resumable, badsha\n');
  });

  it('--list shows sizes, licences, digest kind and what is installed', async () => {
    const dir = freshDir('list');
    await run(['--stt', 'good', '--models-dir', dir]);
    const r = await run(['--list', '--models-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/stt\s+good\s+2 MB\s+installed\s+sha1 pinned\s+MIT/);
    expect(r.out).toMatch(/tts\s+xx_XX-test-low\s+\S+ kB\s+-\s+no upstream digest: trust on first use \(--from\/--mirror need --trust-source\)/);
  });
});
