import type { AgentEngines, AgentOptions } from './agent-options.js';
import { resolveAgentOptions } from './agent-options.js';
import { EarshotError } from '../errors.js';
import type { EngineLoaders } from './reloadable-engines.js';

/** The engines every agent needs; the turn-end model is an optional extra (see loadEngines). */
export type EngineRole = Exclude<keyof AgentEngines, 'turn'>;

export const ENGINE_ROLES: readonly EngineRole[] = ['vad', 'stt', 'llm', 'tts'];

export interface LoadedEngines<R extends EngineRole = EngineRole> {
  engines: AgentEngines & Required<Pick<AgentEngines, R>>;
  /** The roles loaded here (not brought in `options.engines`): whoever holds them frees them. */
  loaded: (keyof AgentEngines)[];
  /** How each engine loaded here was loaded, to load a fresh one in its place (the watchdog's reload). */
  loaders: EngineLoaders;
}

/**
 * Loads, all at once, the engines of `roles` that `options.engines` does not bring (from `options.models`).
 * Engines are loaded once and reused for every turn; a host that shares them between conversations loads them
 * here and passes them to each agent as `engines`.
 */
export async function loadEngines<R extends EngineRole = EngineRole>(
  options: AgentOptions,
  roles: readonly R[] = ENGINE_ROLES as readonly R[],
): Promise<LoadedEngines<R>> {
  const given = options.engines ?? {};
  const models = options.models ?? {};
  const { threads, language, gpu, sttWindow, turnEnd, endpointing } = resolveAgentOptions(options);
  const need = (role: string, flag: string) =>
    new EarshotError('MODEL_MISSING', `no ${role} model given; pass models.${role} (CLI: ${flag}) or run: npm run fetch-models`);
  const wanted = (role: EngineRole) => (roles as readonly EngineRole[]).includes(role) && !given[role];

  const loading: Promise<unknown>[] = [];
  const engines: AgentEngines = { ...given };
  const loaders: EngineLoaders = {};
  // Native modules load only for the engines actually needed, so a host that brings its own pays nothing.
  if (wanted('vad')) {
    loading.push(
      import('../vad/silero-vad.js').then(
        async (m) => (engines.vad = await m.loadSileroVad({ modelPath: models.vad, threads: threads.vad })),
      ),
    );
  }
  if (wanted('stt')) {
    if (!models.stt) throw need('stt', '--stt-model FILE or --stt NAME');
    const modelPath = models.stt;
    loaders.stt = () =>
      import('../stt/whisper-engine.js').then((m) =>
        m.loadWhisperEngine({ modelPath, threads: threads.stt, language, gpu: gpu !== 'off', audioContext: sttWindow }),
      );
    loading.push(loaders.stt().then((e) => (engines.stt = e)));
  }
  if (wanted('llm')) {
    if (!models.llm) throw need('llm', '--llm-model FILE or --llm NAME');
    const modelPath = models.llm;
    loaders.llm = () => import('../llm/llama-engine.js').then((m) => m.loadLlamaEngine({ modelPath, threads: threads.llm, gpu }));
    loading.push(loaders.llm().then((e) => (engines.llm = e)));
  }
  if (wanted('tts')) {
    if (!models.voice) throw need('voice', '--voice DIR or --voice NAME');
    const voiceDir = models.voice;
    loaders.tts = () =>
      import('../tts/piper-tts-engine.js').then((m) => m.loadPiperTts({ voiceDir, espeakDataDir: models.espeakData, threads: threads.tts }));
    loading.push(loaders.tts().then((e) => (engines.tts = e)));
  }
  // The turn model comes with the engines a conversation needs, and only when its mode asks for it.
  if ((roles as readonly EngineRole[]).includes('vad') && !given.turn && models.turn && turnEnd.mode === 'smart-turn') {
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
  const loaded: (keyof AgentEngines)[] = [...ENGINE_ROLES.filter(wanted), ...(engines.turn && !given.turn ? (['turn'] as const) : [])];
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    // Free what did load before reporting: a failed start must not leave native memory behind.
    await Promise.allSettled(loaded.filter((k) => engines[k]).map((k) => engines[k]!.dispose()));
    throw failure.reason;
  }
  return { engines: engines as LoadedEngines<R>['engines'], loaded, loaders };
}
