import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import type { AgentOptions } from '../../../src/agent/agent-options.js';
import { EngineWatchdog, type EngineFailure } from '../../../src/agent/engine-watchdog.js';
import type { AgentEvents } from '../../../src/agent/events.js';
import { ReloadableEngines, type EngineLoaders } from '../../../src/agent/reloadable-engines.js';
import { APOLOGY, defaultWatchdogOptions } from '../../../src/agent/watchdog-options.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { EngineHangError } from '../../../src/errors.js';
import type { GenerateOptions, GenerateResult, LlmEngine } from '../../../src/llm/llm-engine.js';
import { hangOn, RecordingSink, ScriptedLlm, ScriptedStt, ScriptedVad, silence, tone, ToneTts } from '../../support/fake-engines.js';
import { advanceUntil, settle } from '../../support/fake-time.js';

type Logged = { [K in keyof AgentEvents]: (AgentEvents[K] & { t: number })[] };

const WATCHDOG = {
  sttTimeoutMs: 2_000,
  sttTimeoutMsPerAudioSecond: 0,
  llmFirstTokenTimeoutMs: 3_000,
  llmNextTokenTimeoutMs: 1_000,
  ttsTimeoutMs: 2_000,
  ttsTimeoutMsPerChar: 0,
};

/**
 * An agent on scripted engines behind ReloadableEngines, as createAgent() builds it; `loaders` make the fresh
 * engines a reload brings in. Every event is logged with its fake time.
 */
function setup(engines: { stt?: ScriptedStt | ReturnType<typeof hangOn>; llm?: LlmEngine; tts?: ToneTts | ReturnType<typeof hangOn> }, loaders: EngineLoaders, options: AgentOptions = {}) {
  const given = {
    stt: (engines.stt ?? new ScriptedStt([])) as ScriptedStt,
    llm: engines.llm ?? new ScriptedLlm(['Fine.']),
    tts: (engines.tts ?? new ToneTts()) as ToneTts,
  };
  const counted: EngineLoaders = {};
  const loads: string[] = [];
  for (const k of ['stt', 'llm', 'tts'] as const) {
    const load = loaders[k];
    if (load) (counted as Record<string, unknown>)[k] = () => (loads.push(k), load());
  }
  const reloadable = new ReloadableEngines(given, counted);
  const sink = new RecordingSink(20);
  const agent = new Agent(
    { vad: new ScriptedVad(), ...reloadable.engines },
    {
      sink,
      speculation: { enabled: false },
      partialTranscripts: { enabled: false },
      interruption: { duplex: 'full' },
      ...options,
      watchdog: { ...WATCHDOG, ...options.watchdog },
    },
    [],
    reloadable,
  );
  const names = ['transcript', 'audio', 'turn-end', 'error', 'engine-failure', 'engine-reloaded', 'fatal'] as const;
  const log = Object.fromEntries(names.map((n) => [n, []])) as unknown as Logged;
  for (const n of names) agent.on(n, (e: object) => (log[n] as object[]).push({ ...e, t: performance.now() }));
  return { agent, log, loads };
}

/** An utterance the level VAD hears: 1 s of tone between silences. */
const utterance = () => concatFloat32([silence(300), tone(1000), silence(1000)]);

/** An LLM that writes `before` tokens, 10 ms apart, then never another one and never returns. */
class StallingLlm implements LlmEngine {
  calls = 0;
  constructor(private readonly before: number) {}
  async generate(_s: string, _h: unknown, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.calls++;
    for (let i = 0; i < this.before; i++) {
      await new Promise((r) => setTimeout(r, 10));
      options.onTextDelta?.(' word');
    }
    return new Promise<GenerateResult>(() => undefined);
  }
  async dispose(): Promise<void> {}
}

describe('the watchdog on scripted engines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a transcription stuck past its deadline: the turn is dropped, the apology said, whisper reloaded, and the next turn answered', async () => {
    const stuck = hangOn(new ScriptedStt(['What time is it?']), 'transcribe', (n) => n === 0);
    const fresh = new ScriptedStt(['Where am I?']);
    const { agent, log, loads } = setup({ stt: stuck, llm: new ScriptedLlm(['In the museum.']) }, { stt: async () => fresh });
    agent.start();
    agent.pushAudio(utterance(), 16_000);
    await advanceUntil(() => log['turn-end'].length === 1, 30_000);

    expect(log['engine-failure']).toHaveLength(1);
    const failure = log['engine-failure'][0];
    expect(failure).toMatchObject({ engine: 'stt', deadlineMs: 2_000, failures: 1 });
    expect(failure.message).toMatch(/^speech to text took more than 2\.0 s for 1\.\d s of audio$/);
    expect(loads).toEqual(['stt']);
    expect(log['engine-reloaded']).toMatchObject([{ engine: 'stt' }]);
    // The apology is the first and only thing said; nothing was transcribed.
    expect(log.transcript).toEqual([]);
    expect(log['turn-end'][0]).toMatchObject({ transcript: '', reply: APOLOGY, interrupted: false });
    // A conversation handed to the model never starts with the assistant: nothing to keep.
    expect(agent.history).toEqual([]);
    expect(log.error).toEqual([]);
    expect(agent.engineFailures).toEqual({ consecutive: 1, total: 1 });

    agent.pushAudio(utterance(), 16_000);
    await advanceUntil(() => log['turn-end'].length === 2, 30_000);
    expect(log.transcript.map((t) => t.text)).toEqual(['Where am I?']);
    expect(log['turn-end'][1].reply).toBe('In the museum.');
    expect(fresh.heard).toHaveLength(1);
    expect(agent.engineFailures).toEqual({ consecutive: 0, total: 1 });

    // The abandoned engine is freed only once its stuck call returns.
    expect(stuck.disposed).toBe(false);
    stuck.release();
    await vi.advanceTimersByTimeAsync(1);
    expect(stuck.disposed).toBe(true);
    await settle(agent.close());
  });

  it('no first token within the deadline: the reply is given up on and the LLM reloaded', async () => {
    const silent = new StallingLlm(0);
    const fresh = new ScriptedLlm(['Ten past two.']);
    const { agent, log, loads } = setup({ llm: silent }, { llm: async () => fresh });
    await expect(settle(agent.sendText('What time is it?'))).rejects.toThrow(EngineHangError);
    await advanceUntil(() => log['turn-end'].length === 1);
    expect(log['engine-failure']).toMatchObject([{ engine: 'llm', deadlineMs: 3_000, failures: 1, message: 'the language model gave no first token for 3.0 s' }]);
    expect(log['engine-failure'][0].t).toBeGreaterThanOrEqual(3_000);
    expect(loads).toEqual(['llm']);
    expect(log['turn-end'][0].reply).toBe(APOLOGY);
    // The question stays in the history, answered by the apology.
    expect(agent.history).toEqual([
      { role: 'user', text: 'What time is it?' },
      { role: 'assistant', text: APOLOGY },
    ]);
    const next = await settle(agent.sendText('And now?'));
    expect(next.reply).toBe('Ten past two.');
    expect(fresh.calls).toHaveLength(1);
    await settle(agent.close());
  });

  it('tokens that stop coming mid-reply: the next-token deadline, not the first-token one, gives up on it', async () => {
    const { agent, log } = setup({ llm: new StallingLlm(3) }, { llm: async () => new ScriptedLlm(['Yes.']) });
    const start = performance.now();
    await expect(settle(agent.sendText('Still there?'))).rejects.toThrow(/gave no next token for 1\.0 s/);
    const at = log['engine-failure'][0].t - start;
    // Three tokens 10 ms apart, then the 1 s next-token deadline (well before the 3 s first-token one).
    expect(at).toBeGreaterThanOrEqual(1_030);
    expect(at).toBeLessThan(1_100);
    await settle(agent.close());
  });

  it('a tool that runs longer than the next-token deadline holds the clock', async () => {
    class ToolCallingLlm implements LlmEngine {
      async generate(_s: string, _h: unknown, options: GenerateOptions = {}): Promise<GenerateResult> {
        options.onTextDelta?.('Let me look.');
        const result = await options.functions![0].call({});
        options.onTextDelta?.(` It is ${String(result)}.`);
        return { text: `Let me look. It is ${String(result)}.`, aborted: false, tokens: 2 };
      }
      async dispose(): Promise<void> {}
    }
    const slowTool = {
      name: 'time',
      description: 'the time',
      handler: () => new Promise<string>((r) => setTimeout(() => r('noon'), 2_500)),
    };
    const { agent, log } = setup({ llm: new ToolCallingLlm() }, {}, { tools: [slowTool], toolCalls: { timeoutMs: 10_000 } });
    const result = await settle(agent.sendText('What time is it?'));
    expect(result.reply).toBe('Let me look. It is noon.');
    expect(log['engine-failure']).toEqual([]);
    await settle(agent.close());
  });

  it('a voice stuck on a sentence: the reply stops, the voice is reloaded and the fresh one says the apology', async () => {
    const stuck = hangOn(new ToneTts(), 'synthesize', (n) => n === 0);
    const fresh = new ToneTts();
    const { agent, log, loads } = setup({ tts: stuck, llm: new ScriptedLlm(['It is noon.']) }, { tts: async () => fresh });
    await expect(settle(agent.sendText('What time is it?'))).rejects.toThrow(/the voice took more than 2\.0 s/);
    await advanceUntil(() => log['turn-end'].length === 1);
    expect(log['engine-failure']).toMatchObject([{ engine: 'tts', failures: 1 }]);
    expect(loads).toEqual(['tts']);
    expect(fresh.synthesized.join(' ')).toBe(APOLOGY);
    expect(log.audio.map((a) => a.text).join(' ')).toBe(APOLOGY);
    await settle(agent.close());
  });

  it('three failures in a row end the agent with fatal; no apology after the third', async () => {
    // Every load brings another LLM that never writes a token.
    const { agent, log, loads } = setup({ llm: new StallingLlm(0) }, { llm: async () => new StallingLlm(0) });
    agent.start();
    for (let i = 0; i < 3; i++) await expect(settle(agent.sendText(`Question ${i + 1}?`))).rejects.toThrow(EngineHangError);
    await advanceUntil(() => log.fatal.length === 1);
    expect(log['engine-failure'].map((f) => f.failures)).toEqual([1, 2, 3]);
    expect(log.fatal).toMatchObject([{ engine: 'llm', failures: 3 }]);
    expect(log.fatal[0].message).toBe('the language model gave no first token for 3.0 s; 3 engine failures in a row');
    // Reloaded after the first two, not after the third; an apology after each of the first two.
    expect(loads).toEqual(['llm', 'llm']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(log['turn-end'].map((t) => t.reply)).toEqual([APOLOGY, APOLOGY]);
    expect(agent.state).toBe('idle');
    expect(() => agent.start()).toThrow(/stopped after its engines failed/);
    await expect(settle(agent.sendText('Anyone?'))).rejects.toThrow(EngineHangError);
  });

  it('an answered turn between failures starts the count again', async () => {
    let call = 0;
    // Calls 0, 2 and 3 of the LLM stall; the apology turns do not ask it.
    const flaky: LlmEngine = {
      generate: (s, h, o) => (([0, 2, 3].includes(call++) ? new StallingLlm(0) : new ScriptedLlm(['Yes.'])).generate(s, h, o)),
      dispose: async () => undefined,
    };
    const { agent, log } = setup({ llm: flaky }, { llm: async () => flaky });
    await expect(settle(agent.sendText('One?'))).rejects.toThrow(EngineHangError);
    expect((await settle(agent.sendText('Two?'))).reply).toBe('Yes.');
    await expect(settle(agent.sendText('Three?'))).rejects.toThrow(EngineHangError);
    await expect(settle(agent.sendText('Four?'))).rejects.toThrow(EngineHangError);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(log['engine-failure'].map((f) => f.failures)).toEqual([1, 1, 2]);
    expect(log.fatal).toEqual([]);
    expect(agent.engineFailures).toEqual({ consecutive: 2, total: 3 });
    await settle(agent.close());
  });

  it('an engine brought without a loader is kept after a hang, and the failures still count', async () => {
    const { agent, log, loads } = setup({ llm: new StallingLlm(0) }, {}, { watchdog: { maxConsecutiveFailures: 2 } });
    await expect(settle(agent.sendText('One?'))).rejects.toThrow(EngineHangError);
    await expect(settle(agent.sendText('Two?'))).rejects.toThrow(EngineHangError);
    expect(loads).toEqual([]);
    expect(log['engine-reloaded']).toEqual([]);
    expect(log.fatal).toMatchObject([{ engine: 'llm', failures: 2 }]);
  });

  it('a reload that fails is fatal at once, with its reason', async () => {
    const { agent, log } = setup({ llm: new StallingLlm(0) }, { llm: () => Promise.reject(new Error('model file gone\nstack')) });
    await expect(settle(agent.sendText('One?'))).rejects.toThrow(EngineHangError);
    await advanceUntil(() => log.fatal.length === 1);
    expect(log.fatal[0]).toMatchObject({ engine: 'llm', failures: 1 });
    expect(log.fatal[0].message).toBe('the language model gave no first token for 3.0 s, and reloading it failed: model file gone');
  });

  it('with the watchdog off, a stuck call is waited for', async () => {
    const { agent, log } = setup({ llm: new StallingLlm(0) }, {}, { watchdog: { enabled: false } });
    let settled = false;
    void agent.sendText('One?').finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(settled).toBe(false);
    expect(log['engine-failure']).toEqual([]);
  });
});

describe('EngineWatchdog', () => {
  const hang = (engine: 'stt' | 'llm' | 'tts') => new EngineHangError(engine, 1_000, `${engine} hung`);

  it('counts the calls that hung on one stuck engine once, and a call made after the hang again', () => {
    const failures: EngineFailure[] = [];
    const dog = new EngineWatchdog(defaultWatchdogOptions(), undefined, { failure: (e) => failures.push(e), reloaded: () => {}, fatal: () => {} });
    const partial = dog.begin('stt');
    const full = dog.begin('stt');
    const voice = dog.begin('tts');
    partial(hang('stt'));
    full(hang('stt'));
    expect(failures.map((f) => f.engine)).toEqual(['stt']);
    voice(hang('tts'));
    dog.begin('stt')(hang('stt'));
    expect(failures.map((f) => [f.engine, f.failures])).toEqual([
      ['stt', 1],
      ['tts', 2],
      ['stt', 3],
    ]);
    expect(dog.fatal).toBe(true);
  });

  it('reads its deadlines from the environment, as a service unit sets them', () => {
    vi.stubEnv('EARSHOT_LLM_FIRST_TOKEN_TIMEOUT_MS', '1234');
    vi.stubEnv('EARSHOT_STT_TIMEOUT_MS', 'nonsense');
    try {
      const o = defaultWatchdogOptions();
      expect(o.llmFirstTokenTimeoutMs).toBe(1234);
      expect(o.sttTimeoutMs).toBe(60_000);
      expect(o.maxConsecutiveFailures).toBe(3);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
