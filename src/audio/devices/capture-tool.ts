import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { installHint } from '../../util/platform-hints.js';
import { findOnPath } from './device-list.js';

/** Command-line recorders node-record-lpcm16 knows how to drive. */
export type CaptureToolName = 'arecord' | 'sox' | 'rec';

/**
 * The recorder to use: the preferred one if it exists, otherwise the first found of arecord (ALSA, takes any
 * ALSA device name), sox (device through AUDIODEV) and rec (system default only, so never for a named device).
 */
export function pickCaptureTool(preference: CaptureToolName | 'auto', device: string | undefined): CaptureToolName | undefined {
  const order: CaptureToolName[] = preference === 'auto' ? ['arecord', 'sox', 'rec'] : [preference];
  return order.find((tool) => (tool !== 'rec' || device === undefined) && findOnPath(tool) !== undefined);
}

export const NO_MICROPHONE_MESSAGE = 'no microphone found';

/** Why no recorder could be picked, as the tail of the "no microphone found" line. */
export function missingToolHint(preference: CaptureToolName | 'auto'): string {
  return preference === 'auto'
    ? `no arecord, sox or rec on PATH; install one: ${installHint('recorder')}`
    : `${preference} is not on PATH`;
}

/** A running recorder: its child process and its stdout of raw s16le mono samples. */
export interface CaptureProcess {
  process: ChildProcess;
  stream(): Readable;
  stop(): void;
}

export interface CaptureSpawnOptions {
  tool: CaptureToolName;
  sampleRate: number;
  device?: string;
  /** arecord's period, ms: audio reaches us in blocks of this size. */
  periodMs: number;
}

type RecordFn = (options: {
  sampleRate: number;
  channels: number;
  audioType: string;
  recorder: CaptureToolName;
  device?: string;
}) => CaptureProcess;

/** node-record-lpcm16, loaded on first use (it is CommonJS). */
let recordFn: RecordFn | undefined;

/**
 * Starts the recorder. sox and rec run through node-record-lpcm16. arecord is spawned here with the same
 * arguments node-record-lpcm16 gives it plus a period size, which that library cannot pass: at arecord's
 * default (a quarter of a 500 ms buffer) audio arrives in 125 ms blocks, and the loopback test measured the
 * audio path at 244-297 ms that way against 98 ms with 10 ms periods.
 */
export function spawnCapture(options: CaptureSpawnOptions): CaptureProcess {
  if (options.tool !== 'arecord') {
    recordFn ??= (createRequire(import.meta.url)('node-record-lpcm16') as { record: RecordFn }).record;
    // 'raw': plain s16le samples, no WAV header to skip.
    return recordFn({ sampleRate: options.sampleRate, channels: 1, audioType: 'raw', recorder: options.tool, device: options.device });
  }
  const periodUs = Math.round(options.periodMs * 1000);
  const args = [
    ...(options.device ? ['-D', options.device] : []),
    '-q',
    '-r', String(options.sampleRate),
    '-c', '1',
    '-t', 'raw',
    '-f', 'S16_LE',
    `--period-time=${periodUs}`,
    // Room for 20 periods (at least 200 ms): a busy event loop must not make the device overrun.
    `--buffer-time=${Math.max(200_000, periodUs * 20)}`,
    '-',
  ];
  const child = spawn('arecord', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return { process: child, stream: () => child.stdout!, stop: () => child.kill() };
}
