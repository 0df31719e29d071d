import type { AgentEngines } from './agent-options.js';

/** What CPU time is attributed to: the engines, the tools' handlers, and everything else (`other`). */
export type CpuConsumer = 'vad' | 'stt' | 'llm' | 'tts' | 'tools';
export type CpuMs = Record<CpuConsumer | 'other', number>;

/** Each consumer's share of CPU time spent while several are busy: their thread counts. */
export type CpuWeights = Record<CpuConsumer, number>;

const CONSUMERS: readonly (CpuConsumer | 'other')[] = ['vad', 'stt', 'llm', 'tts', 'tools', 'other'];

export function zeroCpuMs(): CpuMs {
  return { vad: 0, stt: 0, llm: 0, tts: 0, tools: 0, other: 0 };
}

/**
 * CPU time per engine, the local analogue of a cloud agent's cost report. The process's CPU time
 * (process.cpuUsage, all threads) is read whenever an engine call starts or ends, and each slice is shared
 * out among the engines busy during it, in proportion to their threads; a slice with none busy is `other`
 * (the pipeline itself, audio, the event loop). While a tool runs, the LLM that called it only waits.
 */
export class EngineCpuMeter {
  private readonly busy = new Map<CpuConsumer, number>();
  private readonly totals = zeroCpuMs();
  private last = process.cpuUsage();

  constructor(private readonly weights: CpuWeights) {}

  enter(consumer: CpuConsumer): void {
    this.settle();
    this.busy.set(consumer, (this.busy.get(consumer) ?? 0) + 1);
  }

  exit(consumer: CpuConsumer): void {
    this.settle();
    this.busy.set(consumer, Math.max(0, (this.busy.get(consumer) ?? 0) - 1));
  }

  /** Runs `work` as `consumer` (sync or async). */
  track<T>(consumer: CpuConsumer, work: () => T): T {
    this.enter(consumer);
    let result: T;
    try {
      result = work();
    } catch (e) {
      this.exit(consumer);
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => this.exit(consumer)) as T;
    this.exit(consumer);
    return result;
  }

  /** CPU ms attributed so far, per consumer. */
  totalsMs(): CpuMs {
    this.settle();
    return { ...this.totals };
  }

  private settle(): void {
    const now = process.cpuUsage();
    const ms = (now.user - this.last.user + now.system - this.last.system) / 1000;
    this.last = now;
    if (ms <= 0) return;
    const toolsRunning = (this.busy.get('tools') ?? 0) > 0;
    const active = [...this.busy].filter(([c, n]) => n > 0 && !(c === 'llm' && toolsRunning)).map(([c]) => c);
    const weight = active.reduce((w, c) => w + this.weights[c], 0);
    if (active.length === 0 || weight <= 0) {
      this.totals.other += ms;
      return;
    }
    for (const c of active) this.totals[c] += (ms * this.weights[c]) / weight;
  }
}

/** `b - a` per consumer, rounded to 0.1 ms. */
export function cpuMsBetween(a: CpuMs, b: CpuMs): CpuMs {
  const out = zeroCpuMs();
  for (const c of CONSUMERS) out[c] = Math.round((b[c] - a[c]) * 10) / 10;
  return out;
}

/** The engine methods that do the work, metered; everything else passes through. */
const WORK_METHODS: Readonly<Record<MeteredRole, string>> = { vad: 'process', stt: 'transcribe', llm: 'generate', tts: 'synthesize' };

/** The engines whose work is metered (the turn-end model's few ms per pause are not). */
type MeteredRole = Exclude<keyof AgentEngines, 'turn'>;
type MeteredEngines = Required<Pick<AgentEngines, MeteredRole>> & Pick<AgentEngines, 'turn'>;

/** The same engines, with each work call counted by `meter`. */
export function meterEngines<E extends MeteredEngines>(engines: E, meter: EngineCpuMeter): E {
  const wrap = <T extends object>(engine: T, consumer: MeteredRole): T =>
    new Proxy(engine, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (prop !== WORK_METHODS[consumer]) return method.bind(target);
        return (...args: unknown[]) => meter.track(consumer, () => method.apply(target, args));
      },
    });
  return { ...engines, vad: wrap(engines.vad, 'vad'), stt: wrap(engines.stt, 'stt'), llm: wrap(engines.llm, 'llm'), tts: wrap(engines.tts, 'tts') };
}
