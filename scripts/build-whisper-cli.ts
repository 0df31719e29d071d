import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/util/package-root.js';

export interface BuildWhisperCliOptions {
  /** Parallel compile jobs. Default: os.availableParallelism(). */
  jobs?: number;
  /** Progress lines. Default: writes to stderr with a `[whisper-cli]` prefix. */
  log?: (line: string) => void;
}

export interface BuildWhisperCliResult {
  /** Absolute path of the `whisper-cli` executable. */
  cliPath: string;
  /** False when a cached binary was reused. */
  built: boolean;
  /** Wall time of this call, ms. */
  ms: number;
}

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const captured: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => captured.push(d));
    child.stderr.on('data', (d: Buffer) => captured.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolvePromise();
      process.stderr.write(Buffer.concat(captured));
      reject(new Error(`${[cmd, ...args].join(' ')} exited with code ${code}`));
    });
  });
}

/**
 * Builds whisper.cpp's own `whisper-cli` from the sources the nodejs-whisper package ships, with the same
 * GGML_NATIVE flags as the addon, into .cache/whisper-cli/. Only the STT benchmark uses it, as the speed
 * reference the addon is measured against. Built once; later calls reuse the binary.
 */
export async function buildWhisperCli(options: BuildWhisperCliOptions = {}): Promise<BuildWhisperCliResult> {
  const t0 = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`[whisper-cli] ${line}\n`));
  const require = createRequire(import.meta.url);
  const whisperDir = resolve(dirname(require.resolve('nodejs-whisper/package.json')), 'cpp', 'whisper.cpp');
  const buildDir = join(packageRoot(), '.cache', 'whisper-cli');
  const cliPath = join(buildDir, 'bin', 'whisper-cli');
  if (existsSync(cliPath)) return { cliPath, built: false, ms: performance.now() - t0 };

  mkdirSync(buildDir, { recursive: true });
  const jobs = Math.max(1, options.jobs ?? availableParallelism());
  log(`configuring whisper.cpp ${whisperDir} (GGML_NATIVE=ON)`);
  await run('cmake', [
    '-S',
    whisperDir,
    '-B',
    buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DGGML_NATIVE=ON',
    '-DBUILD_SHARED_LIBS=OFF',
    '-DWHISPER_BUILD_EXAMPLES=ON',
    '-DWHISPER_BUILD_TESTS=OFF',
    '-DWHISPER_BUILD_SERVER=OFF',
    '-DWHISPER_SDL2=OFF',
    '-DWHISPER_CURL=OFF',
    `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${join(buildDir, 'bin')}`,
  ]);
  log(`building whisper-cli with ${jobs} jobs`);
  await run('cmake', ['--build', buildDir, '--target', 'whisper-cli', '--parallel', String(jobs)]);
  if (!existsSync(cliPath)) throw new Error(`build finished but ${cliPath} is missing`);
  const ms = performance.now() - t0;
  log(`built ${cliPath} in ${(ms / 1000).toFixed(1)} s`);
  return { cliPath, built: true, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildWhisperCli().catch((e: unknown) => {
    process.stderr.write(`[whisper-cli] build failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
