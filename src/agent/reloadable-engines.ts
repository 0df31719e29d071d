import { EarshotError, type WatchedEngine } from '../errors.js';
import type { GenerateOptions, GenerateResult, LlmEngine, ChatTurn } from '../llm/llm-engine.js';
import type { SttEngine, TranscribeOptions, Transcript } from '../stt/stt-engine.js';
import type { SynthesizeOptions, TtsEngine } from '../tts/tts-engine.js';

/** How to load a fresh engine of each kind, for the watchdog to replace one that hung. */
export interface EngineLoaders {
  stt?: () => Promise<SttEngine>;
  llm?: () => Promise<LlmEngine>;
  tts?: () => Promise<TtsEngine>;
}

/** What the agent's watchdog asks of whoever holds its engines. */
export interface EngineReloader {
  canReload(engine: WatchedEngine): boolean;
  /** Loads a fresh engine in place of the current one; calls made meanwhile wait for it. */
  reload(engine: WatchedEngine): Promise<void>;
}

interface Disposable {
  dispose(): Promise<void>;
}

/**
 * One engine that can be replaced while in use. The one it replaces is abandoned, not awaited: a native call
 * stuck in it may never return. It is disposed in the background, which frees it once its last call returns
 * (every engine's dispose() waits for its calls), or never, if that call never does.
 */
class EngineSlot<T extends Disposable> {
  private current: T;
  private loading: Promise<T> | undefined;
  /** True once the engine in use is not the one first given (it was loaded here). */
  replaced = false;

  constructor(
    engine: T,
    private readonly loader: (() => Promise<T>) | undefined,
  ) {
    this.current = engine;
  }

  get canReload(): boolean {
    return this.loader !== undefined;
  }

  /** The engine as it is now (for properties such as a voice's sample rate). */
  get now(): T {
    return this.current;
  }

  /** The engine to call: a fresh one once a reload under way has finished. */
  get ready(): T | Promise<T> {
    return this.loading ?? this.current;
  }

  reload(what: string): Promise<void> {
    const load = this.loader;
    if (!load) return Promise.reject(new EarshotError('BAD_OPTION', `no way to reload the ${what} engine; give engineLoaders.${what}`));
    // Two calls that hung on the same engine ask for one reload.
    this.loading ??= (async () => {
      try {
        const fresh = await load();
        const old = this.current;
        this.current = fresh;
        if (fresh !== old) {
          this.replaced = true;
          void old.dispose().catch(() => undefined);
        }
        return fresh;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading.then(() => undefined);
  }

  async dispose(): Promise<void> {
    await this.loading?.catch(() => undefined);
    await this.current.dispose();
  }
}

class ReloadableStt implements SttEngine {
  constructor(private readonly slot: EngineSlot<SttEngine>) {}
  get backend(): string | undefined {
    return this.slot.now.backend;
  }
  async transcribe(audio: Float32Array, options?: TranscribeOptions): Promise<Transcript> {
    return (await this.slot.ready).transcribe(audio, options);
  }
  dispose(): Promise<void> {
    return this.slot.dispose();
  }
}

class ReloadableLlm implements LlmEngine {
  constructor(private readonly slot: EngineSlot<LlmEngine>) {}
  get backend(): string | undefined {
    return this.slot.now.backend;
  }
  async generate(systemPrompt: string, history: readonly ChatTurn[], options?: GenerateOptions): Promise<GenerateResult> {
    return (await this.slot.ready).generate(systemPrompt, history, options);
  }
  /** The engine in the slot forgets; a fresh one from a reload holds nothing to forget anyway. */
  async forget(): Promise<void> {
    await (await this.slot.ready).forget?.();
  }
  dispose(): Promise<void> {
    return this.slot.dispose();
  }
}

class ReloadableTts implements TtsEngine {
  constructor(private readonly slot: EngineSlot<TtsEngine>) {}
  get sampleRate(): number {
    return this.slot.now.sampleRate;
  }
  async synthesize(text: string, options?: SynthesizeOptions): Promise<Float32Array> {
    return (await this.slot.ready).synthesize(text, options);
  }
  dispose(): Promise<void> {
    return this.slot.dispose();
  }
}

/**
 * STT, LLM and TTS behind stable objects whose engine can be swapped for a fresh one (`reload`). Everything that
 * holds them (the agent, its partial transcriber, the filler bank, the conversations of `earshot serve`) keeps
 * its reference and uses the fresh engine from the next call on.
 */
export class ReloadableEngines implements EngineReloader {
  readonly engines: { stt: SttEngine; llm: LlmEngine; tts: TtsEngine };
  private readonly slots: { stt: EngineSlot<SttEngine>; llm: EngineSlot<LlmEngine>; tts: EngineSlot<TtsEngine> };

  constructor(engines: { stt: SttEngine; llm: LlmEngine; tts: TtsEngine }, loaders: EngineLoaders = {}) {
    this.slots = {
      stt: new EngineSlot(engines.stt, loaders.stt),
      llm: new EngineSlot(engines.llm, loaders.llm),
      tts: new EngineSlot(engines.tts, loaders.tts),
    };
    this.engines = { stt: new ReloadableStt(this.slots.stt), llm: new ReloadableLlm(this.slots.llm), tts: new ReloadableTts(this.slots.tts) };
  }

  canReload(engine: WatchedEngine): boolean {
    return this.slots[engine].canReload;
  }

  reload(engine: WatchedEngine): Promise<void> {
    return this.slots[engine].reload(engine);
  }

  /** The kinds whose engine was replaced by a loaded one (no longer the one first given). */
  replaced(): WatchedEngine[] {
    return (['stt', 'llm', 'tts'] as const).filter((k) => this.slots[k].replaced);
  }
}
