import { firstLine, type EngineHangError, type WatchedEngine } from '../errors.js';
import type { HangReporter } from './engine-deadlines.js';
import type { EngineReloader } from './reloadable-engines.js';
import type { WatchdogOptions } from './watchdog-options.js';

export interface EngineFailure {
  engine: WatchedEngine;
  /** The deadline that passed, ms. */
  deadlineMs: number;
  /** Failures in a row so far, this one included (no answered turn between them). */
  failures: number;
  /** One line: what took too long. */
  message: string;
}

export interface WatchdogCallbacks {
  failure(e: EngineFailure): void;
  reloaded(e: { engine: WatchedEngine; ms: number }): void;
  fatal(e: { engine: WatchedEngine; failures: number; message: string }): void;
}

/**
 * Counts engine hangs and replaces the engine that hung. Each engine has a generation, bumped at every hang: a
 * hang of a call made before the bump is the same stuck engine, already counted and being replaced (a partial
 * transcription and the full one queued behind it both time out), so it is not counted twice.
 */
export class EngineWatchdog implements HangReporter {
  private consecutive = 0;
  private total = 0;
  private readonly generation: Record<WatchedEngine, number> = { stt: 0, llm: 0, tts: 0 };
  private dead = false;
  private readonly reloads = new Map<WatchedEngine, Promise<void>>();

  constructor(
    private readonly options: WatchdogOptions,
    private readonly reloader: EngineReloader | undefined,
    private readonly callbacks: WatchdogCallbacks,
  ) {}

  /** Failures in a row (reset by an answered turn) and in all. */
  get failures(): { consecutive: number; total: number } {
    return { consecutive: this.consecutive, total: this.total };
  }

  /** True once 'fatal' was reported: the host should end. */
  get fatal(): boolean {
    return this.dead;
  }

  begin(engine: WatchedEngine): (error: EngineHangError) => void {
    const generation = this.generation[engine];
    return (error) => this.hung(engine, generation, error);
  }

  reloaded(engine: WatchedEngine): Promise<void> {
    return this.reloads.get(engine) ?? Promise.resolve();
  }

  /** A turn was answered: the engines work, the count starts again. */
  succeeded(): void {
    this.consecutive = 0;
  }

  private hung(engine: WatchedEngine, generation: number, error: EngineHangError): void {
    if (this.dead || generation !== this.generation[engine]) return;
    this.generation[engine]++;
    this.consecutive++;
    this.total++;
    const failures = this.consecutive;
    this.callbacks.failure({ engine, deadlineMs: error.deadlineMs, failures, message: error.message });
    if (failures >= this.options.maxConsecutiveFailures) {
      this.die(engine, failures, `${error.message}; ${failures} engine failures in a row`);
      return;
    }
    // An engine brought without a loader stays: a slow call may still return, and the count still bounds it.
    if (!this.reloader?.canReload(engine)) return;
    const t0 = performance.now();
    const reload = this.reloader.reload(engine).then(
      () => this.callbacks.reloaded({ engine, ms: Math.round(performance.now() - t0) }),
      (e: unknown) => this.die(engine, failures, `${error.message}, and reloading it failed: ${firstLine(e)}`),
    );
    this.reloads.set(engine, reload);
    void reload.finally(() => this.reloads.get(engine) === reload && this.reloads.delete(engine));
  }

  private die(engine: WatchedEngine, failures: number, message: string): void {
    if (this.dead) return;
    this.dead = true;
    this.callbacks.fatal({ engine, failures, message });
  }
}
