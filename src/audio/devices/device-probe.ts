import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { EarshotError } from '../../errors.js';

/** What a probe of an output device found. */
export interface OutputProbeResult {
  ok: boolean;
  /** Why not, in a few words (the native library's own message when it gave one). */
  reason?: string;
}

export interface OutputProbeOptions {
  /** ALSA device name to open. Default: the system default device. */
  device?: string;
  /** Rate the probe opens the device at, Hz. Default: 48000. */
  sampleRate?: number;
  /** A probe that takes longer is a failure (a hung sound server). Default: 8000 ms. */
  timeoutMs?: number;
}

export const NO_OUTPUT_MESSAGE = 'no audio output found, use --output FILE';

/**
 * Loading `speaker` opens the default ALSA device from its module initialiser, and alsa-lib ABORTS the
 * process when there is none; opening a named device that fails can do the same. So the first contact with
 * a device happens in a throwaway child: load, open, write 20 ms of silence, close.
 */
const PROBE_SCRIPT = `
const [speakerPath, device, rate] = process.argv.slice(1);
const Speaker = require(speakerPath);
const s = new Speaker({ channels: 1, bitDepth: 16, sampleRate: Number(rate), device: device || undefined });
s.on('error', (e) => { process.stderr.write(String(e && e.message || e) + '\\n'); process.exit(3); });
s.write(Buffer.alloc(Math.round(Number(rate) / 50) * 2), (e) => {
  if (e) { process.stderr.write(String(e.message || e) + '\\n'); process.exit(3); }
  try { s.close(true); } catch {}
  process.exit(0);
});
`;

/** Results per device and environment: the sound server a process talks to is chosen by its environment. */
const cache = new Map<string, Promise<OutputProbeResult>>();

function cacheKey(device: string | undefined, rate: number): string {
  const env = ['ALSA_CONFIG_PATH', 'XDG_RUNTIME_DIR', 'PULSE_SERVER', 'PULSE_SINK'].map((k) => process.env[k] ?? '');
  return JSON.stringify([device ?? '', rate, ...env]);
}

/** Absolute path of the `speaker` package's entry, or undefined when it is not installed (or failed to build). */
export function speakerModulePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('speaker');
  } catch {
    return undefined;
  }
}

/**
 * Opens the output device in a child process and reports whether it works. Never throws and never takes
 * this process down; results are cached per device (and sound-server environment) for the process's life.
 */
export function probeOutputDevice(options: OutputProbeOptions = {}): Promise<OutputProbeResult> {
  const rate = options.sampleRate ?? 48_000;
  const key = cacheKey(options.device, rate);
  let result = cache.get(key);
  if (!result) {
    result = runProbe(options.device, rate, options.timeoutMs ?? 8000);
    cache.set(key, result);
  }
  return result;
}

/** Forgets cached probe results (after the sound server came back, or in tests). */
export function clearOutputProbeCache(): void {
  cache.clear();
}

function runProbe(device: string | undefined, rate: number, timeoutMs: number): Promise<OutputProbeResult> {
  const speakerPath = speakerModulePath();
  if (!speakerPath) return Promise.resolve({ ok: false, reason: 'the speaker package is not installed' });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT, speakerPath, device ?? '', String(rate)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ ok: true });
      resolve({ ok: false, reason: probeFailure(stderr, code, signal) });
    });
  });
}

/** The most telling line of what the child printed: ALSA's own complaint beats a stack trace. */
function probeFailure(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const alsa = lines.find((l) => l.startsWith('ALSA lib')) ?? lines.find((l) => /error|fail/i.test(l));
  if (alsa) return alsa.replace(/^ALSA lib [^ ]+ /, '');
  if (signal === 'SIGABRT') return 'the audio library aborted (no default ALSA device)';
  if (signal === 'SIGKILL') return 'the device did not answer in time';
  return signal ? `the probe died (${signal})` : `the probe failed (exit ${code})`;
}

/** Probes and throws the one-line NO_DEVICE error the CLI shows when the output cannot be used. */
export async function assertOutputDevice(options: OutputProbeOptions = {}): Promise<void> {
  const probe = await probeOutputDevice(options);
  if (probe.ok) return;
  const where = options.device ? ` (${options.device}: ${probe.reason})` : ` (${probe.reason})`;
  throw new EarshotError('NO_DEVICE', `${NO_OUTPUT_MESSAGE}${where}`);
}
