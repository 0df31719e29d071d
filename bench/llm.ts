import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeScriptedLlama } from '../test/fixtures/models/gguf-llama.js';
import { loadLlamaEngine } from '../src/llm/llama-engine.js';

export interface LlmBenchOptions {
  /** GGUF to run. Default: a generated width-512, 8-layer scripted model (about 110 MB) in .cache/bench/. */
  modelPath?: string;
  /** CPU threads. Default: the engine's default, os.availableParallelism(). */
  threads?: number;
  /** Tokens to generate in the measured run. Default: 256. */
  tokens?: number;
}

export interface LlmBenchResult {
  /** Decode speed after the first token: (tokens - 1) / time from first to last token. */
  tokensPerSecond: number;
  /** From the generate() call to the first text delta, prompt evaluation included. */
  firstTokenMs: number;
  tokens: number;
}

const BENCH_MODEL = fileURLToPath(new URL('../.cache/bench/llm-512x8-never-end.gguf', import.meta.url));

/** Generation speed of the LLM engine on this machine, CPU only, after one warm-up turn. */
export async function benchLlm(opts: LlmBenchOptions = {}): Promise<LlmBenchResult> {
  const modelPath = opts.modelPath ?? (await benchModel());
  const engine = await loadLlamaEngine({ modelPath, gpu: 'off', threads: opts.threads, temperature: 0 });
  try {
    const system = 'You are a helpful assistant.';
    // The warm-up leaves the system prompt cached, as a real conversation would; the measured turn's own
    // user text still has to be evaluated before its first token.
    await engine.generate(system, [{ role: 'user', text: 'Hello.' }], { maxTokens: 8 });
    const started = performance.now();
    let firstAt = 0;
    const result = await engine.generate(system, [{ role: 'user', text: 'Tell me about Paris, please.' }], {
      maxTokens: opts.tokens ?? 256,
      onTextDelta: () => {
        firstAt ||= performance.now();
      },
    });
    const ended = performance.now();
    return {
      tokensPerSecond: (result.tokens - 1) / ((ended - firstAt) / 1000),
      firstTokenMs: firstAt - started,
      tokens: result.tokens,
    };
  } finally {
    await engine.dispose();
  }
}

async function benchModel(): Promise<string> {
  if (!existsSync(BENCH_MODEL)) await writeScriptedLlama({ path: BENCH_MODEL, width: 512, layers: 8, neverEnd: true });
  return BENCH_MODEL;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const threads = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchLlm({ threads }).then(
    (r) => console.log(JSON.stringify({ threads: threads ?? 'default', ...r })),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
