import { createRequire } from 'node:module';
import { EarshotError } from '../../errors.js';
import { abortableSleep } from '../../util/abortable-sleep.js';
import { TypedEmitter } from '../../util/typed-emitter.js';
import type { AudioSink } from '../audio-sink.js';
import { PauseGate } from '../pause-gate.js';
import { assertOutputDevice, speakerModulePath } from './device-probe.js';
import { float32ToInt16, type PcmChunk } from '../pcm.js';
import { createStreamResampler } from '../resample.js';
import { SerialRunner } from '../../util/serial-runner.js';
import { withDefaults } from '../../util/with-defaults.js';

/** Output device settings and the pacing that keeps playback stoppable. */
export interface SpeakerSinkOptions {
  /** ALSA device name (`earshot devices` lists them: `pulse:NAME`, `plughw:0,0`, ...). Default: the system default. */
  device?: string;
  /** Rate the device is opened at; TTS audio is resampled to it with libsamplerate. Default: 48000. */
  sampleRate?: number;
  /**
   * Audio written ahead of what the listener has heard, ms. A pause or an abort drops it with the device
   * buffer, so it costs no stopping time; an event loop stalled longer than this makes the device run dry,
   * which is a gap the listener hears and a jump of the echo's delay. Default: 200 (60 ran dry several
   * times a minute on a busy 2-core machine).
   */
  leadMs?: number;
  /** Size of each write, ms: the granularity of pause, abort and onPlayed. Default: 10. */
  blockMs?: number;
  /**
   * Time from a write into an idle device until the sound reaches the listener (sound server and device
   * latency), ms; used to count only samples actually heard. Default: 20 (PulseAudio measured 12-18).
   */
  outputLatencyMs?: number;
  /**
   * After a chunk has played, silence is written for up to this long, so the device does not run dry between
   * sentences and replies: a device that ran dry starts again at another latency, and the echo canceller
   * would have to find the new delay. A pause or an abort stops it at once. Default: 3000.
   */
  keepAliveMs?: number;
  /**
   * After the device fails, the first attempt to open it again waits this long, ms; each failed attempt doubles
   * the wait up to `retryMaxMs`. Until then the reply goes on without sound (each attempt costs an open of the
   * device, and alsa-lib prints its complaint to stderr every time). Default: 500.
   */
  retryInitialMs?: number;
  /** Longest wait between attempts to reopen a failed device, ms. Default: 8000. */
  retryMaxMs?: number;
}

export const defaultSpeakerSinkOptions: Readonly<Required<Omit<SpeakerSinkOptions, 'device'>>> = Object.freeze({
  sampleRate: 48_000,
  leadMs: 200,
  blockMs: 10,
  outputLatencyMs: 20,
  keepAliveMs: 3000,
  retryInitialMs: 500,
  retryMaxMs: 8000,
});

export interface SpeakerSinkEvents {
  /** The device failed (e.g. the sound server went away); the sink reopens it on the next block. */
  error: { error: Error };
  /**
   * The device failed and was not working before: said once per outage (with the first 'error'). Replies go on
   * without sound; the device is tried again after `retryInMs`, then less and less often.
   */
  lost: { reason: string; retryInMs: number };
  /** A block reached the device again after a loss. */
  restored: { downMs: number };
}

/** The part of the `speaker` package's Writable that the sink uses. */
interface SpeakerStream {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  close(flush?: boolean): void;
  on(event: 'error', listener: (error: Error) => void): this;
}
type SpeakerConstructor = new (options: {
  channels: number;
  bitDepth: number;
  sampleRate: number;
  signed: boolean;
  device?: string;
}) => SpeakerStream;

/** One written block: when it reaches the listener, and how many device frames it holds. */
interface WrittenBlock {
  startsAt: number;
  frames: number;
  timer: NodeJS.Timeout | undefined;
}


/**
 * Plays reply audio on a sound device through the `speaker` package. Audio is resampled to the device rate
 * block by block and written in small blocks paced to the listener's clock, so that no more than `leadMs`
 * is ever queued: an abort or pause drops that little queue and the device is silent within a block or two.
 * Create it with openSpeakerSink(), which probes the device in a child process first.
 */
export class SpeakerSink extends TypedEmitter<SpeakerSinkEvents> implements AudioSink {
  readonly device: string | undefined;
  readonly sampleRate: number;
  onPlayed?: (block: Float32Array, sampleRate: number, playedAt: number) => void;

  private readonly leadMs: number;
  private readonly blockFrames: number;
  private readonly outputLatencyMs: number;
  private readonly keepAliveMs: number;
  private readonly Speaker: SpeakerConstructor;
  private speaker: SpeakerStream | undefined;
  /** Writes and closes take turns: the device is closed only between writes (alsa-lib is not thread-safe). */
  private readonly writes = new SerialRunner();
  /** When the last written sample reaches the listener (performance.now() ms). */
  private queueEnd = 0;
  private blocks: WrittenBlock[] = [];
  private readonly gate = new PauseGate();
  private pausedAt = 0;
  private closed = false;
  /** play() calls writing their chunk right now; while there are none, the silence filler may run. */
  private writers = 0;
  private fedUntil = 0;
  private filler: Promise<void> | undefined;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  /** performance.now() when the device failed and that was said ('lost'), 0 while it works. */
  private lostAt = 0;
  /** performance.now() of a first failure not yet said (being reopened at once), 0 otherwise. */
  private staleAt = 0;
  /** While lost: no attempt to reopen the device before this time. */
  private retryAt = 0;
  private retryDelay: number;

  /** Use openSpeakerSink(): constructing directly skips the probe that keeps a missing device from aborting. */
  constructor(Speaker: SpeakerConstructor, options: SpeakerSinkOptions = {}) {
    super();
    // An option passed as undefined (e.g. "the device did not say its rate") keeps its default.
    const o = withDefaults<Required<Omit<SpeakerSinkOptions, 'device'>>>(defaultSpeakerSinkOptions, options);
    this.Speaker = Speaker;
    this.device = options.device;
    this.sampleRate = o.sampleRate;
    this.leadMs = o.leadMs;
    this.blockFrames = Math.max(1, Math.round((o.sampleRate * o.blockMs) / 1000));
    this.outputLatencyMs = o.outputLatencyMs;
    this.keepAliveMs = o.keepAliveMs;
    this.retryInitialMs = o.retryInitialMs;
    this.retryMaxMs = o.retryMaxMs;
    this.retryDelay = o.retryInitialMs;
  }

  /** Opens the device and writes a block of silence, so the first reply does not pay for opening it. */
  async warmUp(): Promise<void> {
    await this.writeBlock(new Float32Array(this.blockFrames));
  }

  async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    if (this.closed) throw new EarshotError('BAD_OPTION', 'this speaker sink was closed');
    if (signal.aborted || chunk.samples.length === 0) return 0;
    const resampler = await createStreamResampler(chunk.sampleRate, this.sampleRate);
    // Silence comes first: the queued blocks are dropped the moment the turn is aborted, not when the loop
    // below next wakes up.
    let abortedAt = 0;
    const onAbort = () => {
      abortedAt = performance.now();
      void this.drop();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const total = Math.round((chunk.samples.length * this.sampleRate) / chunk.sampleRate);
    // Input is fed in pieces that give about one output block each; the filter keeps its state between them.
    const inBlock = Math.max(1, Math.round((this.blockFrames * chunk.sampleRate) / this.sampleRate));
    let readPos = 0;
    /** Device frames of this chunk the listener heard before the latest pause. */
    let heardBefore = 0;
    let written = 0;
    const mine: WrittenBlock[] = [];
    const heardNow = (at: number) => heardBefore + heardFrames(mine, at, this.sampleRate);
    /** Device-rate audio of this chunk produced so far, kept so a pause can replay what was not heard. */
    const produced: Float32Array[] = [];
    let producedFrames = 0;
    const produce = (upTo: number) => {
      while (producedFrames < upTo && producedFrames < total) {
        let input: Float32Array;
        if (readPos < chunk.samples.length) {
          input = chunk.samples.subarray(readPos, readPos + inBlock);
          readPos += input.length;
        } else {
          // Flush the filter's delay with silence; the tail is trimmed to the exact length below.
          input = new Float32Array(inBlock);
        }
        const out = resampler.push(input).subarray(0, total - producedFrames);
        produced.push(out);
        producedFrames += out.length;
      }
    };
    const framesAt = (from: number, to: number): Float32Array => {
      const block = new Float32Array(to - from);
      let base = 0;
      for (const p of produced) {
        const a = Math.max(from, base);
        const b = Math.min(to, base + p.length);
        if (a < b) block.set(p.subarray(a - base, b - base), a - from);
        base += p.length;
        if (base >= to) break;
      }
      return block;
    };

    this.writers++;
    let writing = true;
    const doneWriting = () => {
      if (!writing) return;
      writing = false;
      this.writers--;
    };
    try {
      while (written < total && !signal.aborted) {
        if (this.gate.paused) {
          // What was queued but not heard is dropped with the device buffer; replay it after resume.
          heardBefore = Math.min(total, heardNow(this.pausedAt));
          mine.length = 0;
          written = heardBefore;
          await this.gate.wait(signal);
          continue;
        }
        const ahead = this.queueEnd - performance.now() - this.outputLatencyMs;
        if (ahead > this.leadMs) {
          await abortableSleep(ahead - this.leadMs, signal);
          continue;
        }
        const end = Math.min(total, written + this.blockFrames);
        produce(end);
        const block = framesAt(written, end);
        const placed = await this.writeBlock(block);
        if (placed === 'held') continue;
        if (!placed) break; // device failed: reported as 'error'; the reply continues without sound
        mine.push(placed);
        written = end;
      }
      doneWriting();
      if (!signal.aborted) {
        const lastHeardAt = this.queueEnd;
        if (written >= total) this.keepFed();
        // play() resolves when the listener has heard the last sample, as the AudioSink contract says.
        await abortableSleep(lastHeardAt - performance.now(), signal);
      }
      // Played to the end: all of it was heard (timers may wake a fraction of a ms before the last sample).
      const heard =
        written >= total && !signal.aborted && !this.gate.paused
          ? total
          : Math.min(total, heardNow(signal.aborted ? abortedAt || performance.now() : performance.now()));
      if (signal.aborted) await this.drop();
      return Math.min(chunk.samples.length, Math.round((heard * chunk.sampleRate) / this.sampleRate));
    } finally {
      doneWriting();
      signal.removeEventListener('abort', onAbort);
      resampler.close();
    }
  }

  /** Writes silence behind the last chunk, paced like audio, until keepAliveMs has passed or a chunk comes. */
  private keepFed(): void {
    this.fedUntil = performance.now() + this.keepAliveMs;
    this.filler ??= (async () => {
      const silence = new Float32Array(this.blockFrames);
      while (this.writers === 0 && !this.closed && !this.gate.paused && performance.now() < this.fedUntil) {
        const ahead = this.queueEnd - performance.now() - this.outputLatencyMs;
        if (ahead > this.leadMs) {
          await new Promise((resolve) => setTimeout(resolve, ahead - this.leadMs));
          continue;
        }
        const placed = await this.writeBlock(silence);
        if (!placed || placed === 'held') break;
      }
      this.filler = undefined;
    })();
  }

  /** Holds playback: the queued audio is dropped at once (silence within a block), play() stays pending. */
  pause(): void {
    if (!this.gate.pause()) return;
    this.pausedAt = performance.now();
    void this.drop();
  }

  resume(): void {
    this.gate.resume();
  }

  /** Stops sound at once and releases the device. Never throws and never emits an uncaught error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resume();
    await this.drop();
  }

  /**
   * Writes one block; resolves with where it sits on the listener's clock, undefined if the device failed, or
   * 'held' when the block was not written and may be tried again: a pause came first (a write queued behind
   * the pause's drop must not reach the device: it would open a new stream and play on while the sink is meant
   * to be silent), or a stale stream was dropped to be reopened at once.
   */
  private writeBlock(block: Float32Array): Promise<WrittenBlock | undefined | 'held'> {
    const run = async (): Promise<WrittenBlock | undefined | 'held'> => {
      if (this.gate.paused) return 'held';
      if (this.closed && this.writers === 0) return undefined;
      const speaker = this.open();
      if (!speaker) return undefined;
      const samples = float32ToInt16(block);
      const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
      const error = await new Promise<Error | null | undefined>((resolve) => speaker.write(pcm, resolve));
      if (error) {
        // The same failure also arrives as an 'error' event; whichever comes first reports it.
        if (this.speaker === speaker) return this.fail(error) ? 'held' : undefined;
        // The 'error' event got there first: a stale stream being reopened still gets this block.
        return this.lostAt === 0 && this.staleAt !== 0 ? 'held' : undefined;
      }
      // An idle device starts this block after its own latency; a busy one right after what is queued.
      const now = performance.now();
      if (this.lostAt !== 0) this.emit('restored', { downMs: Math.round(now - this.lostAt) });
      this.lostAt = 0;
      this.staleAt = 0;
      this.retryDelay = this.retryInitialMs;
      const startsAt = Math.max(this.queueEnd, now + this.outputLatencyMs);
      this.queueEnd = startsAt + (block.length / this.sampleRate) * 1000;
      const placed: WrittenBlock = { startsAt, frames: block.length, timer: undefined };
      if (this.onPlayed) {
        placed.timer = setTimeout(() => {
          placed.timer = undefined;
          this.onPlayed?.(block, this.sampleRate, startsAt);
        }, startsAt - now);
      }
      this.blocks.push(placed);
      if (this.blocks.length > 64) this.blocks.splice(0, this.blocks.length - 64);
      return placed;
    };
    return this.writes.run(run);
  }

  private open(): SpeakerStream | undefined {
    if (this.speaker) return this.speaker;
    // A lost device is not reopened for every 10 ms block: the reply goes on silently until the next attempt.
    if (this.lostAt !== 0 && performance.now() < this.retryAt) return undefined;
    try {
      const speaker = new this.Speaker({ channels: 1, bitDepth: 16, signed: true, sampleRate: this.sampleRate, device: this.device });
      // speaker emits 'error' from close(false), failed writes and failed opens: all are reported, none is
      // thrown. A device already dropped may still complain; that is not news about the current one.
      speaker.on('error', (e) => {
        if (this.speaker === speaker) this.fail(e);
      });
      this.speaker = speaker;
      return speaker;
    } catch (e) {
      this.fail(e as Error);
      return undefined;
    }
  }

  /** Drops whatever the device still holds, after the write in flight (if any) has returned. */
  private async drop(): Promise<void> {
    const droppedAt = performance.now();
    await this.writes.idle();
    for (const b of this.blocks) {
      if (b.timer && b.startsAt > droppedAt) clearTimeout(b.timer);
    }
    this.blocks = [];
    this.queueEnd = 0;
    const speaker = this.speaker;
    this.speaker = undefined;
    if (!speaker) return;
    try {
      // close(true) = drop the buffer then close; close(false) would drain it (play it all out) first.
      speaker.close(true);
    } catch (e) {
      this.emit('error', { error: e as Error });
    }
  }

  /**
   * The device failed: drops the stream and says so once per outage. Returns true when the block may be
   * written again at once: the first failure of a stream that worked may only be a stale connection (the sound
   * server restarted while it was idle), so it is reopened on the spot before anything is said.
   */
  private fail(error: Error): boolean {
    const s = this.speaker;
    this.speaker = undefined;
    this.queueEnd = 0;
    try {
      s?.close(true);
    } catch {
      // already broken; the next write opens a fresh device
    }
    const now = performance.now();
    if (this.lostAt === 0 && this.staleAt === 0) {
      this.staleAt = now;
      this.retryAt = now;
      return true;
    }
    const firstFailure = this.lostAt === 0;
    if (firstFailure) this.lostAt = this.staleAt || now;
    const retryInMs = this.retryDelay;
    this.retryAt = now + retryInMs;
    this.retryDelay = Math.min(this.retryMaxMs, this.retryDelay * 2);
    // Once per outage: every failed reopen is the same news.
    if (firstFailure) {
      const reason = failureReason(error);
      this.emit('lost', { reason, retryInMs });
      this.emit('error', { error: new EarshotError('NO_DEVICE', `audio output failed: ${reason}`, { cause: error }) });
    }
    return false;
  }
}

/** The speaker package's messages, in words ("write() failed: 0" is a device that went away mid-stream). */
function failureReason(error: Error): string {
  const m = error.message;
  if (/^write\(\) failed/.test(m)) return 'the device stopped taking audio';
  if (/failed to open output device/i.test(m)) return 'the device cannot be opened';
  return m || 'the device stopped';
}

/** Frames of `blocks` the listener has heard by time `at`. */
function heardFrames(blocks: readonly WrittenBlock[], at: number, rate: number): number {
  let n = 0;
  for (const b of blocks) n += Math.max(0, Math.min(b.frames, Math.floor(((at - b.startsAt) * rate) / 1000)));
  return n;
}

/**
 * Probes the output device in a child process (cached per device), then loads `speaker` and opens the
 * device. Throws EarshotError NO_DEVICE "no audio output found, use --output FILE" when it cannot.
 */
export async function openSpeakerSink(options: SpeakerSinkOptions = {}): Promise<SpeakerSink> {
  const sampleRate = options.sampleRate ?? defaultSpeakerSinkOptions.sampleRate;
  await assertOutputDevice({ device: options.device, sampleRate });
  const path = speakerModulePath();
  if (!path) throw new EarshotError('NO_DEVICE', 'no audio output found, use --output FILE (the speaker package is missing)');
  const Speaker = createRequire(import.meta.url)(path) as SpeakerConstructor;
  const sink = new SpeakerSink(Speaker, { ...options, sampleRate });
  await sink.warmUp();
  return sink;
}
