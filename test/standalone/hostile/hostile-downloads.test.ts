import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../../support/run-cli.js';
import { runFetchModels } from '../../support/fetch-models-run.js';
import { startTestServer, type TestServer } from '../models/test-server.js';
import { HOSTILE_ROOT, caseDir, pinnedEntry, startHostile, writeManifest, writeSource } from './hostile-fixtures.js';

/** Servers that send too much, too slowly, to the wrong place, or onto a full disk. */
let server: TestServer;
let manifest: string;
const small = randomBytes(100_000);

beforeAll(async () => {
  const started = await startHostile();
  server = started.server;
  const url = started.url;
  manifest = writeManifest(HOSTILE_ROOT, [
    pinnedEntry('endless', 'stt', 'endless.bin', small, url('endless.bin')),
    pinnedEntry('announced', 'stt', 'announced.bin', small, url('announced.bin')),
    pinnedEntry('trickle', 'stt', 'trickle.bin', small.subarray(0, 1000), url('trickle.bin')),
    pinnedEntry('ftp', 'stt', 'ftp.bin', small, url('to-ftp')),
    pinnedEntry('file', 'stt', 'file.bin', small, url('to-file')),
    // The manifest's size is upstream's rounded figure: the pre-check passes, the disk fills mid-download.
    pinnedEntry('rounded', 'llm', 'rounded.gguf', randomBytes(1_900_000), url('rounded.gguf'), { size: 1_000_000, sizeApproximate: true }),
    pinnedEntry('big', 'llm', 'big.gguf', randomBytes(2_000_000), url('big.gguf')),
  ]);
  server.handle('/endless.bin', (_req, res) => {
    res.writeHead(200);
    const chunk = randomBytes(64 * 1024);
    const pump = (): void => {
      while (res.write(chunk)) if (res.destroyed) return;
      res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  server.handle('/announced.bin', (_req, res) => {
    res.writeHead(200, { 'content-length': 81_700_000_000 });
    res.write(randomBytes(1024));
  });
  server.handle('/trickle.bin', (_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    const timer = setInterval(() => res.write(Buffer.from([0])), 700);
    res.on('close', () => clearInterval(timer));
  });
  server.handle('/to-ftp', (_req, res) => res.writeHead(302, { location: 'ftp://127.0.0.1/ftp.bin' }).end());
  server.handle('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
});

afterAll(async () => {
  await server.close();
  rmSync(HOSTILE_ROOT, { recursive: true, force: true });
  delete process.env.EARSHOT_FETCH_DEADLINE_BASE_MS;
  delete process.env.EARSHOT_FETCH_MIN_RATE;
});

const run = (args: string[]) => runFetchModels(args, manifest);

function expectOneLine(r: { code: number; err: string; lastLine: string }, pattern: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.lastLine).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('downloads are capped', () => {
  it('cuts off a response that goes on past the manifest size, and deletes what it wrote', async () => {
    const { models } = caseDir('endless');
    const r = await run(['--stt', 'endless', '--models-dir', models]);
    expectOneLine(r, /^Download of endless\.bin \(stt endless\) failed: 127\.0\.0\.1:\d+ sent more than the 166 kB expected \(\d+ bytes\); the partial download was deleted; /);
    expect(readdirSync(join(models, '.partial'))).toEqual([]);
  });

  it('refuses a response that announces more than the manifest size before writing', async () => {
    const { models } = caseDir('announced');
    const r = await run(['--stt', 'announced', '--models-dir', models]);
    expectOneLine(r, /sent more than the 166 kB expected \(81700000000 bytes\)/);
    expect(readdirSync(join(models, '.partial'))).toEqual([]);
  });

  it('gives up on a server that keeps a download alive a byte at a time', async () => {
    const { models } = caseDir('trickle');
    process.env.EARSHOT_FETCH_DEADLINE_BASE_MS = '1500';
    process.env.EARSHOT_FETCH_MIN_RATE = '1000000000';
    try {
      const started = performance.now();
      const r = await run(['--stt', 'trickle', '--models-dir', models]);
      expectOneLine(r, /^Download of trickle\.bin \(stt trickle\) failed: it took longer than 2 s; /);
      expect(performance.now() - started).toBeLessThan(15_000);
    } finally {
      delete process.env.EARSHOT_FETCH_DEADLINE_BASE_MS;
      delete process.env.EARSHOT_FETCH_MIN_RATE;
    }
  });
});

describe('downloads go over https', () => {
  it('follows no redirect to ftp: or file:', async () => {
    const { models } = caseDir('schemes');
    expectOneLine(await run(['--stt', 'ftp', '--models-dir', models]), /failed: 127\.0\.0\.1:\d+ redirected to a ftp: address \(ftp:\/\/127\.0\.0\.1\/ftp\.bin\); models are fetched over https; /);
    expectOneLine(await run(['--stt', 'file', '--models-dir', models]), /failed: 127\.0\.0\.1:\d+ redirected to a file: address \(file:\/\/\/etc\/passwd\)/);
  });

  it('refuses a plain-http mirror that is not on this machine', async () => {
    const { models } = caseDir('plain-http');
    const r = await run(['--mirror', 'http://192.0.2.1/models', '--stt', 'endless', '--models-dir', models]);
    expectOneLine(r, /failed: refusing plain http \(http:\/\/192\.0\.2\.1\/models\/earshot-lock\.json\); use an https address, or a mirror on this machine/);
  });

  it('does not follow an https server down to plain http', async () => {
    const { root, models } = caseDir('downgrade');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = await startTestServer({ tls: { key: readFileSync(join(root, 'key.pem'), 'utf8'), cert: readFileSync(join(root, 'cert.pem'), 'utf8') } });
    try {
      tls.handle('/voice.onnx', (_req, res) => res.writeHead(302, { location: `${server.url}/endless.bin` }).end());
      tls.serve('/ok.bin', small);
      const m = writeManifest(root, [
        pinnedEntry('downgraded', 'stt', 'voice.onnx', small, `${tls.url}/voice.onnx`),
        pinnedEntry('secure', 'stt', 'ok.bin', small, `${tls.url}/ok.bin`),
      ]);
      const env = { NODE_EXTRA_CA_CERTS: join(root, 'cert.pem'), EARSHOT_FETCH_RETRIES: '0' };
      const secure = await runCli(['fetch-models', '--stt', 'secure', '--models-dir', models, '--manifest', m], { env });
      expect(secure.code, secure.stderr).toBe(0);
      const r = await runCli(['fetch-models', '--stt', 'downgraded', '--models-dir', models, '--manifest', m], { env });
      expectCliLine(r, /redirected to plain http \(http:\/\/127\.0\.0\.1:\d+\/endless\.bin\) from an https address/);
    } finally {
      await tls.close();
    }
  });
});

function expectCliLine(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Whether this machine lets a child mount a small tmpfs in a mount namespace of its own (root, or user namespaces). */
function canMountTmpfs(): boolean {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d"'], { stdio: 'ignore' });
  return probe.status === 0;
}
const tmpfsSkip = canMountTmpfs() ? false : 'cannot mount a tmpfs in a mount namespace here (unshare -rm): the disk-full tests need one';

/** Runs the CLI with `dir` replaced by a tmpfs of `size` bytes, so writes there hit a real ENOSPC. */
function runOnSmallDisk(dir: string, size: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"';
    const child = spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', String(size), dir, process.execPath, '--import', 'tsx', join(process.cwd(), 'src', 'cli', 'main.ts'), ...args], {
      env: { ...process.env, EARSHOT_FETCH_RETRIES: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.skipIf(tmpfsSkip)('a full disk', () => {
  it('is reported as a full disk while downloading, not as a lost connection, and not retried', async () => {
    const { root, models } = caseDir('full-download');
    server.serve('/rounded.gguf', randomBytes(1_900_000));
    const m = join(root, 'manifest.json');
    writeFileSync(m, readFileSync(manifest));
    const r = await runOnSmallDisk(models, 1_500_000, ['fetch-models', '--llm', 'rounded', '--models-dir', models, '--manifest', m]);
    expectCliLine(r, /^The disk is full while downloading rounded\.gguf \(llm rounded\) \(the partial download was deleted\); free some space and run the same command again\.$/);
    expect(r.stderr).not.toMatch(/retrying|connection/);
  });

  it('is reported as a full disk while copying from a folder, not as a missing file', async () => {
    const { root, models } = caseDir('full-copy');
    const usb = join(root, 'usb');
    const big = randomBytes(2_000_000);
    writeSource(usb, 'llm', 'big', { 'big.gguf': big });
    const m = writeManifest(root, [pinnedEntry('big', 'llm', 'big.gguf', big, 'https://huggingface.co/x/resolve/0123456789012345678901234567890123456789/big.gguf')]);
    const r = await runOnSmallDisk(models, 1_000_000, ['fetch-models', '--from', usb, '--models-dir', models, '--manifest', m]);
    expectCliLine(r, /^The disk is full while copying big from .*usb \(nothing was installed\); free some space/);
    expect(existsSync(join(models, 'llm'))).toBe(false);
  });
});
