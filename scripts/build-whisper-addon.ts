import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WHISPER_ADDON_FILE, whisperAddonBuildDir, whisperAddonPath } from '../src/stt/whisper-addon-path.js';
import { packageRoot } from '../src/util/package-root.js';
import { processAlive } from '../src/util/process-alive.js';
import { chooseWhisperGpuBackend, probeGpuToolchains, type GpuBackendChoice } from './whisper-gpu-backend.js';

export interface BuildWhisperAddonOptions {
  /** Rebuild even when the addon is newer than its sources. Default: false. */
  force?: boolean;
  /** Parallel compile jobs. Default: os.availableParallelism(). */
  jobs?: number;
  /** Keep the compiler's output to show it only if the build fails. Default: false (stream it). */
  quiet?: boolean;
  /** Progress lines ("configuring", "done in 43 s"). Default: writes to stderr with a `[whisper-addon]` prefix. */
  log?: (line: string) => void;
  /**
   * CMake build tree; the addon lands in its Release/ folder. Only for measuring a clean build without
   * touching the one the engine loads. Default: build/whisper under the package root.
   */
  buildDir?: string;
  /**
   * GPU backend compiled in: 'cpu', 'cuda', 'vulkan' or 'metal'. Default: EARSHOT_WHISPER_GPU, else what the
   * machine can build (Metal on macOS, CUDA with nvcc, Vulkan with its SDK), else the CPU.
   */
  gpu?: string;
}

export interface BuildWhisperAddonResult {
  /** Absolute path of the built `.node` file. */
  addonPath: string;
  /** False when the existing addon was up to date and nothing ran. */
  built: boolean;
  /** Wall time of this call, ms. */
  ms: number;
  /** The GPU backend the addon was built with ('cpu' for none). */
  gpu: GpuBackendChoice['backend'];
}

interface BuildInputs {
  root: string;
  whisperDir: string;
  whisperPackageVersion: string;
  addonApiDir: string;
  cmakeJsBin: string;
  nodeDir: string | undefined;
}

const require = createRequire(import.meta.url);

function resolveInputs(): BuildInputs {
  const root = packageRoot();
  const whisperManifest = require.resolve('nodejs-whisper/package.json');
  const whisperPackageVersion = String((JSON.parse(readFileSync(whisperManifest, 'utf8')) as { version?: unknown }).version);
  const whisperDir = join(dirname(whisperManifest), 'cpp', 'whisper.cpp');
  if (!existsSync(join(whisperDir, 'include', 'whisper.h'))) {
    throw new Error(`whisper.cpp sources not found at ${whisperDir}; run npm ci to reinstall nodejs-whisper`);
  }
  const addonApiDir = (require('node-addon-api') as { include_dir: string }).include_dir;
  const cmakeJsBin = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  return { root, whisperDir: resolve(whisperDir), whisperPackageVersion, addonApiDir: resolve(addonApiDir), cmakeJsBin, nodeDir: localNodeDir() };
}

/**
 * The running Node's own install prefix when it carries headers (official tarballs, nvm, distro packages all
 * put them in <prefix>/include/node). Pointing cmake-js there is what keeps the build offline: without a
 * nodedir it downloads a headers tarball from nodejs.org.
 */
function localNodeDir(): string | undefined {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include', 'node', 'node_api.h'))) return configured;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  return undefined;
}

function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) {
      newest = Math.max(newest, newestMtime(readdirSync(p).map((name) => join(p, name))));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  }
  return newest;
}

/** The CMake defines; a change in any of them (e.g. a moved node_modules) or in the whisper.cpp package
 * version means a fresh configure. */
function cmakeDefines(inputs: BuildInputs, gpu: GpuBackendChoice): Record<string, string> {
  return {
    WHISPER_CPP_DIR: inputs.whisperDir,
    NODE_ADDON_API_DIR: inputs.addonApiDir,
    GGML_NATIVE: 'ON',
    // ggml's AMX kernels crash on some of whisper's shapes (see native/whisper/CMakeLists.txt).
    EARSHOT_AMX: 'off',
    CMAKE_BUILD_TYPE: 'Release',
    EARSHOT_WHISPER_GPU: gpu.backend,
  };
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, quiet: boolean, cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const captured: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => captured.push(d));
    child.stderr?.on('data', (d: Buffer) => captured.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolvePromise();
      if (quiet) process.stderr.write(Buffer.concat(captured));
      reject(new Error(`${[cmd, ...args].join(' ')} exited with code ${code}`));
    });
  });
}

const LOCK_WAIT_MS = 10 * 60_000;

/**
 * An exclusive lock on the build tree (a directory, since mkdir is atomic) so that concurrent callers (the
 * install step, a test run's global setup, a bench) wait for one build instead of compiling into the same
 * tree at once. A lock left by a process that no longer exists is taken over.
 */
async function acquireLock(lockDir: string, log: (line: string) => void): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  mkdirSync(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // The owner has created the directory but not yet written its pid.
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for another build of the whisper addon (lock ${lockDir})`);
    if (!announced) {
      log(`waiting for another build of the whisper addon to finish (lock ${lockDir})`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Builds native/whisper into build/whisper/Release/earshot_whisper.node with cmake-js, against the whisper.cpp
 * sources that the nodejs-whisper package ships. Idempotent: returns at once when the addon is newer than
 * every source file and was configured with the same inputs.
 */
export async function buildWhisperAddon(options: BuildWhisperAddonOptions = {}): Promise<BuildWhisperAddonResult> {
  const t0 = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`[whisper-addon] ${line}\n`));
  const inputs = resolveInputs();
  // Decided before the lock and the compiler: a GPU asked for without its toolkit fails in one line.
  const gpu = chooseWhisperGpuBackend(options.gpu ?? process.env.EARSHOT_WHISPER_GPU, probeGpuToolchains());
  const buildDir = options.buildDir ? resolve(options.buildDir) : whisperAddonBuildDir(inputs.root);
  const release = await acquireLock(`${buildDir}.lock`, log);
  try {
    return await buildLocked(inputs, gpu, buildDir, options, log, t0);
  } finally {
    release();
  }
}

async function buildLocked(
  inputs: BuildInputs,
  gpu: GpuBackendChoice,
  buildDir: string,
  options: BuildWhisperAddonOptions,
  log: (line: string) => void,
  t0: number,
): Promise<BuildWhisperAddonResult> {
  const addonPath = options.buildDir ? join(buildDir, 'Release', WHISPER_ADDON_FILE) : whisperAddonPath(inputs.root);
  const sourceDir = join(inputs.root, 'native', 'whisper');
  const defines = cmakeDefines(inputs, gpu);
  const stampPath = join(buildDir, 'earshot-build-inputs.json');
  const stamp = JSON.stringify({ ...defines, nodejsWhisper: inputs.whisperPackageVersion });
  const sameInputs = existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp;

  if (!options.force && sameInputs && existsSync(addonPath)) {
    const sources = newestMtime([sourceDir, join(inputs.whisperDir, 'CMakeLists.txt'), join(inputs.whisperDir, 'src')]);
    if (statSync(addonPath).mtimeMs > sources) {
      log(`up to date: ${addonPath}`);
      return { addonPath, built: false, ms: performance.now() - t0, gpu: gpu.backend };
    }
  }
  if (!sameInputs || options.force) rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });

  if (!inputs.nodeDir) {
    log('warning: no Node headers found next to this Node; cmake-js will try to download them');
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (inputs.nodeDir) env.npm_config_nodedir = inputs.nodeDir;
  const jobs = Math.max(1, options.jobs ?? availableParallelism());
  const args = [
    inputs.cmakeJsBin,
    'build',
    '--directory',
    sourceDir,
    '--out',
    buildDir,
    '--parallel',
    String(jobs),
    ...(options.quiet ? ['--log-level', 'error'] : []),
    ...Object.entries(defines).map(([k, v]) => `--CD${k}=${v}`),
  ];
  log(
    `building whisper.cpp ${inputs.whisperDir} with ${jobs} jobs (GGML_NATIVE=ON, GPU: ${gpu.backend}, ${gpu.reason}); ` +
      'this takes about a minute',
  );
  await run(process.execPath, args, env, options.quiet ?? false, inputs.root);
  if (!existsSync(addonPath)) throw new Error(`build finished but ${addonPath} is missing`);
  writeFileSync(stampPath, stamp);
  const ms = performance.now() - t0;
  log(`built ${addonPath} in ${(ms / 1000).toFixed(1)} s`);
  return { addonPath, built: true, ms, gpu: gpu.backend };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildWhisperAddon({ force: process.argv.includes('--force') }).catch((e: unknown) => {
    process.stderr.write(`[whisper-addon] build failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
