import cliProgress from 'cli-progress';
import { formatBytes } from './disk-space.js';
import type { InstallEvent, InstallEventHandler } from './install-events.js';

export interface ProgressReporterOptions {
  /** Where lines and bars go. Default: process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw one live bar per file (bytes, speed, ETA). Default: whether `stream` is a TTY. */
  bars?: boolean;
}

export interface ProgressReporter {
  onEvent: InstallEventHandler;
  /** Removes live bars; call before printing the final line. */
  stop(): void;
}

interface FileState {
  bar?: cliProgress.SingleBar;
  startedAt: number;
  startBytes: number;
  lastLinePct: number;
}

function speed(state: FileState, received: number): number {
  const seconds = (performance.now() - state.startedAt) / 1000;
  return seconds > 0.2 ? (received - state.startBytes) / seconds : 0;
}

/** Renders install events: live bars on a terminal, plain lines (every 10 %) in logs and CI. */
export function createProgressReporter(options: ProgressReporterOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const bars = options.bars ?? Boolean(stream.isTTY);
  const multi = bars
    ? new cliProgress.MultiBar(
        {
          stream,
          format: '{name} [{bar}] {percentage}% {done}/{size} {speed}/s ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const files = new Map<string, FileState>();
  const line = (text: string): void => {
    if (multi) multi.log(text + '\n');
    else stream.write(text + '\n');
  };
  const key = (e: { model: string; file: string }): string => `${e.model}/${e.file}`;

  const onEvent = (e: InstallEvent): void => {
    switch (e.type) {
      case 'start':
        files.set(key(e), { startedAt: performance.now(), startBytes: 0, lastLinePct: -1 });
        if (!multi) line(`${e.model}: fetching ${e.file}${e.size ? ` (${formatBytes(e.size)})` : ''}`);
        break;
      case 'resume': {
        const s = files.get(key(e));
        if (s) s.startBytes = e.offset;
        line(`${e.model}: resuming ${e.file} from ${formatBytes(e.offset)}`);
        break;
      }
      case 'progress': {
        const s = files.get(key(e));
        if (!s || e.total === undefined || e.total === 0) break;
        const bps = speed(s, e.received);
        if (multi) {
          const payload = { name: `${e.model} ${e.file}`, done: formatBytes(e.received), size: formatBytes(e.total), speed: formatBytes(bps) };
          if (!s.bar) s.bar = multi.create(e.total, e.received, payload);
          else s.bar.update(e.received, payload);
        } else {
          const pct = Math.floor((e.received / e.total) * 10) * 10;
          if (pct > s.lastLinePct) {
            s.lastLinePct = pct;
            line(`${e.model}: ${e.file} ${pct}% ${formatBytes(e.received)}/${formatBytes(e.total)} ${formatBytes(bps)}/s`);
          }
        }
        break;
      }
      case 'retry':
        line(`${e.model}: ${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s`);
        break;
      case 'verified':
        line(
          e.trustedSource
            ? `${e.model}: ${e.file} has no upstream digest; accepted from ${e.trustedSource} because of --trust-source (sha256 ${e.sha256})`
            : e.trustedOnFirstUse
              ? `${e.model}: ${e.file} has no upstream digest; trusted on first use, sha256 ${e.sha256} recorded in earshot-lock.json`
              : `${e.model}: ${e.file} verified`,
        );
        break;
      case 'installed':
        line(`${e.model}: installed in ${e.path}`);
        break;
      case 'skipped':
        line(`${e.model}: ${e.reason}`);
        break;
    }
  };
  return { onEvent, stop: () => multi?.stop() };
}
