import { availableParallelism } from 'node:os';
import { getLlama, LlamaChatSession, LlamaLogLevel, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp';
import { EarshotError, fetchHint, isAbortError, firstLine } from '../errors.js';
import { SerialRunner } from '../util/serial-runner.js';
import { toLlamaChatHistory } from './chat-history.js';
import { toChatSessionFunctions } from './chat-session-functions.js';
import { checkGgufModel } from './gguf-check.js';
import { DEFAULT_MAX_TOKENS, type ChatTurn, type GenerateOptions, type GenerateResult, type LlmEngine } from './llm-engine.js';

export type LlamaLogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';

export interface LlamaEngineOptions {
  /** Path to a GGUF chat model (it should carry a chat template; ChatML and the usual families are recognised). */
  modelPath: string;
  /** Name used in the "how to fix" hint of load errors (`npm run fetch-models -- --llm <name>`). Default: none. */
  modelName?: string;
  /**
   * CPU threads for generation. Default: os.availableParallelism(). node-llama-cpp's own default is at least 4,
   * which on a 2-core machine oversubscribes the cores and runs 100x slower.
   */
  threads?: number;
  /** 'auto' uses CUDA/Vulkan/Metal when present; 'off' loads only the CPU backend. Default: 'auto'. */
  gpu?: 'auto' | 'off';
  /** Context window in tokens. Default: 4096, or the model's trained context if that is smaller. */
  contextSize?: number;
  /** Sampling temperature; 0 is greedy. Default: 0.7. */
  temperature?: number;
  /** Upper bound on generated tokens when generate() does not pass one. Default: DEFAULT_MAX_TOKENS (400). */
  maxTokens?: number;
  /** Receives llama.cpp's warnings and errors. Default: none, so loading and generating print nothing. */
  onLog?: (level: LlamaLogLevelName, message: string) => void;
}

const DEFAULT_CONTEXT_SIZE = 4096;
const DEFAULT_TEMPERATURE = 0.7;

/**
 * Loads a GGUF chat model with node-llama-cpp, once; every generate() reuses the same context sequence, so
 * the KV cache of the shared history prefix is kept between turns. Calls to generate() run one at a time, in
 * the order they were made; an aborted call that is still waiting settles at once.
 */
export async function loadLlamaEngine(options: LlamaEngineOptions): Promise<LlamaEngine> {
  const summary = await checkGgufModel(options.modelPath, { modelName: options.modelName });
  const threads = options.threads ?? availableParallelism();
  const onLog = options.onLog;
  const llama = await getLlama({
    gpu: options.gpu === 'off' ? false : 'auto',
    build: 'never',
    progressLogs: false,
    maxThreads: threads,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => {
      if (onLog && level !== LlamaLogLevel.disabled) onLog(level, message.trimEnd());
    },
  });
  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath: options.modelPath });
    const context = await model.createContext({
      contextSize: Math.min(options.contextSize ?? DEFAULT_CONTEXT_SIZE, summary.contextLength),
      threads,
      sequences: 1,
    });
    return new LlamaEngine(llama, model, context, options);
  } catch (e) {
    await model?.dispose();
    await llama.dispose();
    const reason = firstLine(e);
    throw new EarshotError(
      'MODEL_CORRUPT',
      `LLM model ${options.modelPath} failed to load (${reason}). Download it again: ${fetchHint('llm', options.modelName)}`,
      { cause: e },
    );
  }
}

export class LlamaEngine implements LlmEngine {
  private readonly session: LlamaChatSession;
  readonly backend: string;
  private readonly disposing = new AbortController();
  /** One context sequence: generations take turns. */
  private readonly runner = new SerialRunner();

  constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly options: LlamaEngineOptions,
  ) {
    this.session = new LlamaChatSession({ contextSequence: context.getSequence(), autoDisposeSequence: false });
    this.backend = llama.gpu === false ? 'cpu' : llama.gpu;
  }

  generate(systemPrompt: string, history: readonly ChatTurn[], options: GenerateOptions = {}): Promise<GenerateResult> {
    const last = history.at(-1);
    if (last?.role !== 'user') {
      return Promise.reject(new EarshotError('BAD_OPTION', 'generate() needs a history that ends with a user turn'));
    }
    if (this.disposing.signal.aborted) {
      return Promise.reject(new EarshotError('BAD_OPTION', 'generate() was called after dispose()'));
    }
    let started = false;
    // No signal for the runner: an aborted generation still resolves, with the text written so far.
    const run = this.runner.run(() => {
      started = true;
      return this.run(systemPrompt, history.slice(0, -1), last.text, options);
    });
    const { signal } = options;
    if (!signal) return run;
    // A call still waiting behind another one (conversations sharing the model) leaves the queue the moment it
    // is aborted; one already running returns its partial text from run().
    return new Promise((resolve, reject) => {
      const leave = () => {
        if (!started) resolve({ text: '', aborted: true, tokens: 0 });
      };
      signal.addEventListener('abort', leave, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
      if (signal.aborted) leave();
    });
  }

  private async run(systemPrompt: string, earlier: readonly ChatTurn[], prompt: string, options: GenerateOptions): Promise<GenerateResult> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.disposing.signal]) : this.disposing.signal;
    let text = '';
    let tokens = 0;
    if (signal.aborted) return { text, aborted: true, tokens };
    const wanted = toLlamaChatHistory(systemPrompt, earlier);
    // When the history is the session's own (the last reply was heard whole), the session keeps the tokens it
    // evaluated and generated, so only the new message is evaluated. Setting it anew would re-tokenize every
    // earlier reply, and a reply re-tokenized differently from how it was generated misses the KV cache.
    if (JSON.stringify(this.session.getChatHistory()) !== JSON.stringify(wanted)) this.session.setChatHistory(wanted);
    const meter = this.session.sequence.tokenMeter;
    const evaluatedBefore = meter.usedInputTokens + meter.usedOutputTokens;
    // node-llama-cpp keeps the sequence's KV cache and evaluates only from the first token that differs from
    // what it holds, so this counts the prompt cache's misses: every token evaluated, less the generated ones
    // fed back (all but the last).
    const prefill = (): number => meter.usedInputTokens + meter.usedOutputTokens - evaluatedBefore - Math.max(0, tokens - 1);
    try {
      const result = await this.session.promptWithMeta(prompt, {
        signal,
        stopOnAbortSignal: true,
        maxTokens: options.maxTokens ?? this.options.maxTokens ?? DEFAULT_MAX_TOKENS,
        functions: options.functions?.length ? toChatSessionFunctions(options.functions) : undefined,
        temperature: this.options.temperature ?? DEFAULT_TEMPERATURE,
        onToken: (generated) => {
          tokens += generated.length;
        },
        onTextChunk: (delta) => {
          if (delta === '') return;
          text += delta;
          options.onTextDelta?.(delta);
        },
      });
      return { text: result.responseText, aborted: result.stopReason === 'abort', tokens, prefillTokens: prefill() };
    } catch (e) {
      // An abort that lands while the prompt is still being evaluated throws instead of returning.
      if (signal.aborted && (isAbortError(e) || e === signal.reason)) return { text, aborted: true, tokens, prefillTokens: prefill() };
      throw e;
    }
  }

  /** The text the context sequence holds now (its tokens, detokenized): what the prompt cache would reuse. */
  contextText(): string {
    return this.model.detokenize(this.session.sequence.contextTokens, true);
  }

  /**
   * The chat session's history goes, and so does every token of the context sequence: its KV cache and token
   * list are what the prompt cache reuses, and they hold the words of every turn evaluated so far. Queued
   * behind the generations already asked for, so none of them writes words back after it.
   */
  forget(): Promise<void> {
    if (this.disposing.signal.aborted) return Promise.resolve();
    return this.runner.run(async () => {
      this.session.setChatHistory([]);
      await this.session.sequence.clearHistory();
    });
  }

  async dispose(): Promise<void> {
    if (this.disposing.signal.aborted) return;
    this.disposing.abort();
    await this.runner.idle();
    this.session.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
