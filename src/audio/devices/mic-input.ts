import { EarshotError } from '../../errors.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import { withDefaults } from '../../util/with-defaults.js';
import type { AudioSource, AudioSourceEvents } from './audio-source.js';
import {
  missingToolHint,
  NO_MICROPHONE_MESSAGE,
  pickCaptureTool,
  spawnCapture,
  type CaptureProcess,
  type CaptureToolName,
} from './capture-tool.js';

/** Microphone settings, and how a lost device is noticed and retried. */
export interface MicInputOptions {
  /** ALSA device name (`earshot devices` lists them: `pulse:NAME`, `plughw:1,0`, ...). Default: the system default. */
  device?: string;
  /**
   * Rate asked of the device, Hz. Ask for what the device runs at (its native rate) so nothing converts
   * twice; the agent resamples to 16 kHz with libsamplerate. Default: 48000.
   */
  sampleRate?: number;
  /** Recorder program. Default: 'auto' (arecord, then sox, then rec: whichever exists). */
  tool?: CaptureToolName | 'auto';
  /**
   * Capture block size with arecord, ms: the last words of an utterance wait up to this long in the device
   * before the endpointer sees them. Default: 10.
   */
  periodMs?: number;
  /**
   * The first audio must arrive within this time or start() fails with "no microphone found". An idle
   * PulseAudio null source can take 2 s to deliver its first block. Default: 5000.
   */
  startTimeoutMs?: number;
  /** No audio for this long after it flowed means the device is lost. Default: 2000. */
  stallTimeoutMs?: number;
  /** First retry delay after a loss; doubles each failed attempt. Default: 500. */
  retryInitialMs?: number;
  /** Longest delay between retries. Default: 8000. */
  retryMaxMs?: number;
}

export const defaultMicInputOptions: Readonly<Required<Omit<MicInputOptions, 'device'>>> = Object.freeze({
  sampleRate: 48_000,
  tool: 'auto',
  periodMs: 10,
  startTimeoutMs: 5000,
  stallTimeoutMs: 2000,
  retryInitialMs: 500,
  retryMaxMs: 8000,
});

/** One run of the recorder child process. */
interface Attempt {
  recording: CaptureProcess;
  exited: Promise<void>;
  stderr: string;
  stopping: boolean;
}

/**
 * Live microphone through arecord, sox or rec (see spawnCapture). Emits mono Int16 blocks at the device
 * rate. If capture dies or goes silent-without-data (device unplugged, sound server restarted), it says so
 * ('lost'), retries with backoff and says when it is back ('restored'); it never throws after start().
 */
export class MicInput extends TypedEmitter<AudioSourceEvents> implements AudioSource {
  readonly sampleRate: number;
  readonly device: string | undefined;
  private readonly options: Required<Omit<MicInputOptions, 'device'>>;
  private tool: CaptureToolName | undefined;
  private attempt: Attempt | undefined;
  private running = false;
  private lastDataAt = 0;
  private lostAt = 0;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** An odd trailing byte from the pipe, kept for the next chunk so samples stay aligned. */
  private carry: Buffer | undefined;
  private firstData: ((ok: boolean, reason?: string) => void) | undefined;

  constructor(options: MicInputOptions = {}) {
    super();
    // Options given as undefined (e.g. "the device did not say its rate") keep their defaults.
    this.options = withDefaults<Required<Omit<MicInputOptions, 'device'>>>(defaultMicInputOptions, options);
    this.sampleRate = this.options.sampleRate;
    this.device = options.device;
    this.retryDelay = this.options.retryInitialMs;
  }

  /** The recorder in use (after start()). */
  get toolName(): CaptureToolName | undefined {
    return this.tool;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.tool = pickCaptureTool(this.options.tool, this.device);
    if (!this.tool) throw new EarshotError('NO_DEVICE', `${NO_MICROPHONE_MESSAGE} (${missingToolHint(this.options.tool)})`);
    this.running = true;
    const first = new Promise<{ ok: boolean; reason?: string }>((resolve) => {
      this.firstData = (ok, reason) => resolve({ ok, reason });
    });
    this.spawnAttempt();
    const timer = setTimeout(() => this.firstData?.(false, `no audio from the device in ${this.options.startTimeoutMs} ms`), this.options.startTimeoutMs);
    const result = await first;
    clearTimeout(timer);
    this.firstData = undefined;
    if (!result.ok) {
      await this.stop();
      const where = this.device ? `${this.device}: ` : '';
      throw new EarshotError('NO_DEVICE', `${NO_MICROPHONE_MESSAGE} (${this.tool} ${where}${result.reason})`);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stallTimer);
    await this.kill();
  }

  private spawnAttempt(): void {
    const tool = this.tool!;
    let recording: CaptureProcess;
    try {
      recording = spawnCapture({ tool, sampleRate: this.sampleRate, device: this.device, periodMs: this.options.periodMs });
    } catch (e) {
      this.onAttemptEnded(undefined, (e as Error).message);
      return;
    }
    const attempt: Attempt = { recording, exited: Promise.resolve(), stderr: '', stopping: false };
    const child = recording.process;
    attempt.exited = new Promise((resolve) => child.once('close', () => resolve()));
    this.attempt = attempt;
    // A missing binary is an 'error' on the child; node-record-lpcm16 does not listen for it.
    child.on('error', (e) => {
      attempt.stderr += e.message;
      // 'close' may never follow a failed spawn.
      if (!attempt.stopping) this.onAttemptEnded(attempt, e.message);
    });
    child.stderr?.on('data', (d: Buffer) => {
      attempt.stderr = (attempt.stderr + d.toString()).slice(-2000);
    });
    // node-record-lpcm16 emits an 'error' on the stream for every non-zero exit, including the kill that
    // stop() sends (arecord exits 1): expected then, a device loss otherwise; the exit handler reports it.
    // Without this listener that spurious error would crash the process.
    recording.stream().on('error', () => {});
    recording.stream().on('data', (d: Buffer) => this.onData(d));
    child.once('close', (code, signal) => {
      if (attempt.stopping) return;
      this.onAttemptEnded(attempt, lastLine(attempt.stderr) ?? `${tool} exited (${signal ?? `code ${code}`})`);
    });
  }

  private onData(d: Buffer): void {
    const bytes = this.carry ? Buffer.concat([this.carry, d]) : d;
    const even = bytes.length & ~1;
    this.carry = even < bytes.length ? bytes.subarray(even) : undefined;
    if (even === 0) return;
    // Copy: the pipe's Buffer may sit at an odd offset in a shared pool, which Int16Array cannot view.
    const samples = new Int16Array(even / 2);
    Buffer.from(samples.buffer).set(bytes.subarray(0, even));
    if (!this.running) return;
    const at = performance.now();
    const wasLost = this.lostAt !== 0;
    this.lastDataAt = at;
    this.armStallTimer();
    if (this.firstData) this.firstData(true);
    if (wasLost) {
      this.emit('restored', { downMs: Math.round(at - this.lostAt) });
      this.lostAt = 0;
      this.retryDelay = this.options.retryInitialMs;
    }
    this.emit('data', { samples, sampleRate: this.sampleRate, at });
  }

  private armStallTimer(timeoutMs = this.options.stallTimeoutMs): void {
    clearTimeout(this.stallTimer);
    // Data still buffered in the pipe can arrive after stop(); it must not re-arm the watchdog.
    if (!this.running) return;
    this.stallTimer = setTimeout(() => {
      const attempt = this.attempt;
      if (!this.running || !attempt) return;
      const quietMs = Math.round(performance.now() - this.lastDataAt);
      void this.kill().then(() => this.onAttemptEnded(attempt, `no audio for ${quietMs} ms`));
    }, timeoutMs);
  }

  /** The recorder stopped on its own (or never started): report, then retry later. */
  private onAttemptEnded(attempt: Attempt | undefined, reason: string): void {
    // A newer recorder is already running: this report is about an old one.
    if (attempt && this.attempt && attempt !== this.attempt) return;
    if (attempt) attempt.stopping = true;
    this.attempt = undefined;
    clearTimeout(this.stallTimer);
    if (!this.running) return;
    if (this.firstData) {
      // Still starting: start() reports this as "no microphone found".
      this.firstData(false, reason);
      return;
    }
    if (this.lostAt === 0) this.lostAt = performance.now();
    const retryInMs = this.retryDelay;
    this.retryDelay = Math.min(this.options.retryMaxMs, this.retryDelay * 2);
    this.emit('lost', { reason, retryInMs });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.running) return;
      this.spawnAttempt();
      // A recorder that starts but never delivers is caught by the stall timer; its first block may take as
      // long as at start() (an idle sound-server source wakes up slowly).
      this.armStallTimer(this.options.startTimeoutMs);
    }, retryInMs);
  }

  /** Ends the current recorder and waits for its exit; SIGKILL if it ignores SIGTERM. */
  private async kill(): Promise<void> {
    const attempt = this.attempt;
    this.attempt = undefined;
    if (!attempt) return;
    attempt.stopping = true;
    const child = attempt.recording.process;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      attempt.recording.stop();
    } catch {
      // already gone
    }
    const hard = setTimeout(() => child.kill('SIGKILL'), 1000);
    await attempt.exited;
    clearTimeout(hard);
  }
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  // arecord names its source line ("arecord: pcm_read:2221: read error: ..."): the user needs only the error.
  return lines.at(-1)?.replace(/^(\w+): (?:\w+:\d+: )+/, '$1: ');
}

