import { EarshotError } from '../errors.js';
import { resolveAgentOptions, type AgentEngines, type AgentOptions } from './agent-options.js';
import { Agent, type AgentEngineSet } from './agent.js';

/**
 * Loads whatever engines `options.engines` does not bring (from `options.models`), all at once, and returns a
 * ready agent; call start() to begin listening. Engines are loaded once and reused for every turn.
 */
export async function createAgent(options: AgentOptions = {}): Promise<Agent> {
  const given = options.engines ?? {};
  const models = options.models ?? {};
  const { threads, language, gpu, sttWindow, turnEnd, endpointing } = resolveAgentOptions(options);
  const need = (role: string, flag: string) =>
    new EarshotError('MODEL_MISSING', `no ${role} model given; pass models.${role} (CLI: ${flag}) or run: npm run fetch-models`);

  const loading: Promise<unknown>[] = [];
  const engines: AgentEngines = { ...given };
  // Native modules load only for the engines actually needed, so a host that brings its own pays nothing.
  if (!given.vad) {
    loading.push(
      import('../vad/silero-vad.js').then(
        async (m) => (engines.vad = await m.loadSileroVad({ modelPath: models.vad, threads: threads.vad })),
      ),
    );
  }
  if (!given.stt) {
    if (!models.stt) throw need('stt', '--stt-model FILE or --stt NAME');
    const modelPath = models.stt;
    loading.push(
      import('../stt/whisper-engine.js').then(
        async (m) =>
          (engines.stt = await m.loadWhisperEngine({ modelPath, threads: threads.stt, language, gpu: gpu !== 'off', audioContext: sttWindow })),
      ),
    );
  }
  if (!given.llm) {
    if (!models.llm) throw need('llm', '--llm-model FILE or --llm NAME');
    const modelPath = models.llm;
    loading.push(
      import('../llm/llama-engine.js').then(async (m) => (engines.llm = await m.loadLlamaEngine({ modelPath, threads: threads.llm, gpu }))),
    );
  }
  if (!given.tts) {
    if (!models.voice) throw need('voice', '--voice DIR or --voice NAME');
    const voiceDir = models.voice;
    loading.push(
      import('../tts/piper-tts-engine.js').then(
        async (m) => (engines.tts = await m.loadPiperTts({ voiceDir, espeakDataDir: models.espeakData, threads: threads.tts })),
      ),
    );
  }
  if (!given.turn && models.turn && turnEnd.mode === 'smart-turn') {
    const modelPath = models.turn;
    loading.push(
      import('../turn/turn-end-model.js').then(async (m) => {
        try {
          engines.turn = await m.loadSmartTurn({ modelPath });
        } catch (e) {
          // A missing or broken turn model is not fatal: the silence rule is what ran before there was one.
          options.onNotice?.(`${(e as Error).message}; turns end after ${endpointing.endSilenceMs} ms of silence instead`);
        }
      }),
    );
  }
  const settled = await Promise.allSettled(loading);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    // Free what did load before reporting: a failed start must not leave native memory behind.
    await Promise.allSettled(
      (['vad', 'stt', 'llm', 'tts', 'turn'] as const).filter((k) => !given[k] && engines[k]).map((k) => engines[k]!.dispose()),
    );
    throw failure.reason;
  }
  const owned = (['vad', 'stt', 'llm', 'tts', 'turn'] as const).filter((k) => !given[k] && engines[k]);
  return new Agent(engines as AgentEngineSet, options, owned);
}
