import { readdirSync, readFileSync } from 'node:fs';

/** One reading of the process's memory and descriptors, in MB (2^20 bytes) and counts. */
export interface MemoryReading {
  /** Resident set size as Node reports it. */
  rssMb: number;
  /** V8 heap in use (after a collection when the process runs with --expose-gc). */
  heapUsedMb: number;
  /** V8 heap reserved from the system: part of RSS that V8 gives back only when it shrinks its heap. */
  heapTotalMb: number;
  /** Memory of C++ objects bound to JS objects (Buffers, typed arrays' stores) as V8 knows it. */
  externalMb: number;
  /** ArrayBuffer and SharedArrayBuffer stores, part of `external`. */
  arrayBuffersMb: number;
  /**
   * Anonymous resident memory from /proc/self/status (RssAnon): every malloc'd byte of every native library
   * (llama.cpp, whisper.cpp, ONNX Runtime, sherpa-onnx) plus the JS heap, but not mapped model files, whose
   * pages the kernel may drop and reload at will. Undefined where /proc is missing.
   */
  rssAnonMb: number | undefined;
  /** File-backed resident memory (RssFile): mmap'd models and code. Undefined where /proc is missing. */
  rssFileMb: number | undefined;
  /** Open file descriptors (/proc/self/fd); undefined where /proc is missing. */
  fds: number | undefined;
}

const MB = 1024 * 1024;

/** Reads memory now; collects garbage first when `gc` is exposed, so the heap figure is what is really held. */
export function readMemory(): MemoryReading {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const status = procStatus();
  return {
    rssMb: round(m.rss / MB),
    heapUsedMb: round(m.heapUsed / MB),
    heapTotalMb: round(m.heapTotal / MB),
    externalMb: round(m.external / MB),
    arrayBuffersMb: round(m.arrayBuffers / MB),
    rssAnonMb: status.RssAnon === undefined ? undefined : round(status.RssAnon / 1024),
    rssFileMb: status.RssFile === undefined ? undefined : round(status.RssFile / 1024),
    fds: openDescriptors(),
  };
}

/** The kB fields of /proc/self/status (Linux); empty elsewhere. */
function procStatus(): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB$/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch {
    return {};
  }
}

function openDescriptors(): number | undefined {
  try {
    // readdir opens the directory itself while listing it: that one is not the process's own.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

const round = (v: number) => Math.round(v * 10) / 10;
