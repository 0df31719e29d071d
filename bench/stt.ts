import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildWhisperAddon } from '../scripts/build-whisper-addon.js';
import { buildWhisperCli } from '../scripts/build-whisper-cli.js';
import { writeScriptedWhisperModel } from '../test/fixtures/models/whisper-ggml.js';
import { readWavForPipeline } from '../src/audio/wav.js';
import { packageRoot } from '../src/util/package-root.js';
import { loadWhisperAddon } from '../src/stt/whisper-addon.js';
import { loadWhisperEngine } from '../src/stt/whisper-engine.js';

const execFileAsync = promisify(execFile);

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
/** Three public-domain LibriVox sentences from Debian's pocketsphinx-testdata, 13.4 s together, cut to 11 s. */
const CLIP_PARTS = ['0870', '0880', '0930'].map((n) => join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`));

export interface BenchSttOptions {
  /** whisper.cpp ggml model both sides load. */
  modelPath: string;
  /** 16 kHz mono 16-bit WAV both sides transcribe. */
  wavPath: string;
  /** Timed runs per side, alternating sides, after one untimed warm-up each; medians are reported. Default: 3. */
  runs?: number;
  /** Threads for both sides. Default: os.availableParallelism(). */
  threads?: number;
}

export interface BenchSttResult {
  /** Median wall time of one addon `transcribe()` call, model already loaded. */
  addonMs: number;
  /**
   * Median of whisper-cli's own reported "total time" (whisper_print_timings): from the start of its model load
   * to the end of whisper_full, so it includes load and state set-up that the addon pays once, not per call;
   * process start and WAV reading are outside it.
   */
  cliMs: number;
  /** addonMs / cliMs; the target is <= 1.3. */
  ratio: number;
  /**
   * Median of whisper-cli's reported mel + sample + encode + decode + batchd + prompt times: whisper_full's
   * compute alone, the strictest reference (no load, no state set-up, no whisper_full bookkeeping).
   */
  cliComputeMs: number;
  /** addonMs / cliComputeMs. */
  ratioVsCompute: number;
  /** The addon's first (warm-up, untimed in addonMs) call: a fresh context pays its first-touch costs here. */
  addonFirstMs: number;
  /** loadWhisperEngine wall time: file check plus whisper.cpp model load. */
  addonLoadMs: number;
  /** Median wall time of a whole whisper-cli process (spawn to exit). */
  cliWallMs: number;
  addonRunsMs: number[];
  cliRunsMs: number[];
  addonText: string;
  cliText: string;
  threads: number;
  /** CPU features of the addon build, from whisper_print_system_info. */
  systemInfo: string;
}

/** Writes (once) the 11.0 s speech clip the STT benchmark and tests use, with sox, and returns its path. */
export async function ensureElevenSecondClip(path: string = join(packageRoot(), '.cache', 'bench', 'librivox-11s.wav')): Promise<string> {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  await execFileAsync('sox', [...CLIP_PARTS, '-r', '16000', '-c', '1', '-b', '16', path, 'trim', '0', '11']);
  return path;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function reportedMs(stderr: string, label: string): number {
  const match = new RegExp(`${label} time =\\s*([\\d.]+) ms`).exec(stderr);
  if (!match) throw new Error(`whisper-cli printed no "${label} time"`);
  return Number(match[1]);
}

interface CliRun {
  wallMs: number;
  totalMs: number;
  computeMs: number;
  text: string;
}

const COMPUTE_PHASES = ['mel', 'sample', 'encode', 'decode', 'batchd', 'prompt'];

async function runCli(cliPath: string, modelPath: string, wavPath: string, threads: number): Promise<CliRun> {
  // whisper-cli 1.9.1 defaults to beam search with 5 beams; -bs 1 selects greedy decoding like the addon.
  // -fa (flash attention) is already its default, passed so the comparison reads explicitly; -nt drops
  // timestamps from the text it prints.
  const t0 = performance.now();
  const { stdout, stderr } = await execFileAsync(cliPath, ['-m', modelPath, '-f', wavPath, '-t', String(threads), '-l', 'en', '-bs', '1', '-fa', '-nt'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const wallMs = performance.now() - t0;
  const computeMs = COMPUTE_PHASES.reduce((sum, phase) => sum + reportedMs(stderr, phase), 0);
  return { wallMs, totalMs: reportedMs(stderr, 'total'), computeMs, text: stdout.trim() };
}

/** Times the in-process addon against whisper.cpp's own whisper-cli on the same model, clip and threads. */
export async function benchStt(opts: BenchSttOptions): Promise<BenchSttResult> {
  const runs = opts.runs ?? 3;
  const threads = opts.threads ?? availableParallelism();
  await buildWhisperAddon();
  const { cliPath } = await buildWhisperCli();
  const audio = (await readWavForPipeline(opts.wavPath)).samples;

  const tLoad = performance.now();
  const engine = await loadWhisperEngine({ modelPath: opts.modelPath, threads });
  const addonLoadMs = performance.now() - tLoad;
  let addonFirstMs = 0;
  const addonRunsMs: number[] = [];
  const cli: CliRun[] = [];
  let addonText = '';
  let cliText = '';
  try {
    const tFirst = performance.now();
    addonText = (await engine.transcribe(audio)).text;
    addonFirstMs = performance.now() - tFirst;
    cliText = (await runCli(cliPath, opts.modelPath, opts.wavPath, threads)).text;
    // Alternating the two sides spreads any background load on the machine evenly over both.
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      addonText = (await engine.transcribe(audio)).text;
      addonRunsMs.push(performance.now() - t0);
      const run = await runCli(cliPath, opts.modelPath, opts.wavPath, threads);
      cli.push(run);
      cliText = run.text;
    }
  } finally {
    await engine.dispose();
  }

  const addonMs = median(addonRunsMs);
  const cliRunsMs = cli.map((r) => r.totalMs);
  const cliMs = median(cliRunsMs);
  const cliComputeMs = median(cli.map((r) => r.computeMs));
  return {
    addonMs,
    cliMs,
    ratio: addonMs / cliMs,
    cliComputeMs,
    ratioVsCompute: addonMs / cliComputeMs,
    addonFirstMs,
    addonLoadMs,
    cliWallMs: median(cli.map((r) => r.wallMs)),
    addonRunsMs,
    cliRunsMs,
    addonText,
    cliText,
    threads,
    systemInfo: loadWhisperAddon().systemInfo().trim(),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const wavPath = flag('--wav') ?? (await ensureElevenSecondClip());
  let modelPath = flag('--model');
  if (!modelPath) {
    modelPath = join(packageRoot(), '.cache', 'bench', 'scripted-tiny.en.bin');
    if (!existsSync(modelPath)) {
      await writeScriptedWhisperModel({ path: modelPath, script: 'Hello world, this is the earshot benchmark.', shape: 'tiny.en' });
    }
  }
  const result = await benchStt({ modelPath, wavPath, runs: Number(flag('--runs') ?? 3) });
  const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
  process.stdout.write(
    [
      `model ${modelPath}`,
      `clip  ${wavPath}`,
      `threads ${result.threads}; ${result.systemInfo}`,
      `addon load ${fmt(result.addonLoadMs)}, first call ${fmt(result.addonFirstMs)}`,
      `addon transcribe (median of ${result.addonRunsMs.length}): ${fmt(result.addonMs)}  runs ${result.addonRunsMs.map(fmt).join(', ')}`,
      `whisper-cli reported total time (median): ${fmt(result.cliMs)}  runs ${result.cliRunsMs.map(fmt).join(', ')}`,
      `whisper-cli reported compute phases ${fmt(result.cliComputeMs)}, process wall ${fmt(result.cliWallMs)}`,
      `ratio addon / cli total = ${result.ratio.toFixed(2)} (target <= 1.3); addon / cli compute = ${result.ratioVsCompute.toFixed(2)}`,
      `addon text: ${JSON.stringify(result.addonText)}`,
      `cli text:   ${JSON.stringify(result.cliText)}`,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
