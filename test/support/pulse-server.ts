import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../../src/audio/devices/device-list.js';

/** A private PulseAudio with null sinks: a real-time sound card with no hardware. */
export interface PulseServer {
  /** Environment every process that talks to this server needs (the socket lives under XDG_RUNTIME_DIR). */
  env: { XDG_RUNTIME_DIR: string; PULSE_SERVER: string };
  /** Sink names as given; each has a monitor source `<name>.monitor`. */
  sinks: string[];
  /** Kills the server and every helper process, removes its directory. */
  stop(): Promise<void>;
}

export interface PulseServerOptions {
  /** Null sinks to create. Default: ['earA', 'earB']. */
  sinks?: string[];
  /** Directory for the server's runtime files (must be short: unix socket paths are limited). */
  dir?: string;
  /**
   * Keep a 10 ms reader on each sink's monitor: an idle null sink otherwise runs at 2 s latency and the
   * first audio through it arrives late.
   */
  lowLatency?: boolean;
}

/** Why a real sound server cannot run here, or undefined when it can. */
export function pulseUnavailable(): string | undefined {
  const missing = ['pulseaudio', 'pactl', 'parec', 'pacat'].filter((c) => !findOnPath(c));
  return missing.length ? `PulseAudio is not installed (missing ${missing.join(', ')}; run scripts/install-system-deps.sh)` : undefined;
}

const children = new Set<ChildProcess>();

/** Starts `pulseaudio --daemonize=no` with only the native protocol and the null sinks; waits until it answers. */
export async function startPulseServer(options: PulseServerOptions = {}): Promise<PulseServer> {
  const sinks = options.sinks ?? ['earA', 'earB'];
  const dir = options.dir ?? join('/tmp', `earshot-pulse-${process.pid}-${Date.now() % 100000}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'pulse', 'native');
  const env = { XDG_RUNTIME_DIR: dir, PULSE_SERVER: `unix:${socket}` };
  const childEnv = { ...process.env, ...env, HOME: dir };
  const server = spawn(
    'pulseaudio',
    [
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--system=false',
      '-n',
      '--log-target=stderr',
      '--log-level=error',
      `--load=module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
      ...sinks.map((s) => `--load=module-null-sink sink_name=${s} rate=48000`),
    ],
    { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(server);
  let log = '';
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => server.once('close', () => resolve()));

  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      execFileSync('pactl', ['info'], { env: childEnv, stdio: 'ignore', timeout: 2000 });
      break;
    } catch {
      if (server.exitCode !== null || Date.now() > deadline) {
        server.kill('SIGKILL');
        throw new Error(`pulseaudio did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const helpers: ChildProcess[] = [];
  if (options.lowLatency !== false) {
    for (const s of sinks) {
      const reader = spawn('parec', ['-d', `${s}.monitor`, '--latency-msec=10'], { env: childEnv, stdio: ['ignore', 'ignore', 'ignore'] });
      children.add(reader);
      helpers.push(reader);
    }
  }

  return {
    env,
    sinks,
    async stop() {
      for (const h of helpers) await killAndWait(h);
      await killAndWait(server, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function killAndWait(child: ChildProcess, exited?: Promise<void>): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited ?? new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
  await done;
  clearTimeout(hard);
}

// A test that fails before its cleanup must still not leave a sound server behind.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Plays 16-bit mono PCM into a sink in real time (pacat), resolving when it has been played. */
export function playInto(server: PulseServer, sink: string, samples: Int16Array, rate: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('pacat', ['-p', '-d', sink, '--format=s16le', '--channels=1', `--rate=${rate}`, '--latency-msec=20'], {
      env: { ...process.env, ...server.env },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    children.add(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      children.delete(p);
      code === 0 ? resolve() : reject(new Error(`pacat exited ${code}: ${err.trim()}`));
    });
    p.stdin!.end(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  });
}

/** Records a sink's monitor (parec, 10 ms latency) with an arrival time for each block. */
export interface MonitorRecorder {
  rate: number;
  /** Blocks as they arrived: samples (mono float) and performance.now() of arrival. */
  blocks: { samples: Float32Array; at: number }[];
  stop(): Promise<void>;
}

export function recordMonitor(server: PulseServer, sink: string, rate = 48_000): MonitorRecorder {
  const p = spawn('parec', ['-d', `${sink}.monitor`, '--format=s16le', '--channels=1', `--rate=${rate}`, '--latency-msec=10'], {
    env: { ...process.env, ...server.env },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.add(p);
  const rec: MonitorRecorder = { rate, blocks: [], stop: () => killAndWait(p) };
  let carry: Buffer | undefined;
  p.stdout!.on('data', (d: Buffer) => {
    const at = performance.now();
    const bytes = carry ? Buffer.concat([carry, d]) : d;
    const even = bytes.length & ~1;
    carry = even < bytes.length ? bytes.subarray(even) : undefined;
    const samples = new Float32Array(even / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2) / 32768;
    rec.blocks.push({ samples, at });
  });
  return rec;
}

/**
 * When sound first appears (or disappears for good) on a recorded monitor: the arrival time of the sample,
 * estimated from its block's arrival time minus the samples after it in that block.
 */
export function soundTimes(rec: MonitorRecorder, threshold = 0.01): { firstAt?: number; lastAt?: number } {
  let firstAt: number | undefined;
  let lastAt: number | undefined;
  for (const b of rec.blocks) {
    for (let i = 0; i < b.samples.length; i++) {
      if (Math.abs(b.samples[i]) < threshold) continue;
      const t = b.at - ((b.samples.length - 1 - i) / rec.rate) * 1000;
      if (firstAt === undefined) firstAt = t;
      lastAt = t;
    }
  }
  return { firstAt, lastAt };
}
