import { Agent, type AgentEngineSet } from '../src/agent/agent.js';
import type { AgentOptions } from '../src/agent/agent-options.js';
import type { TurnMetrics } from '../src/agent/turn-metrics.js';
import type { AudioSink } from '../src/audio/audio-sink.js';
import type { PcmChunk } from '../src/audio/pcm.js';
import { LiveFeed, sleep } from '../test/support/live-feed.js';

/** Percentiles of a list of figures, ms. */
export interface Spread {
  p50: number;
  p95: number;
  samples: number[];
}

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]);
  return { p50: round(at(0.5)), p95: round(at(0.95)), samples: values.map(round) };
}

const round = (v: number) => Math.round(v * 10) / 10;

export interface ConversationResult {
  /** From the last sample of the user's question reaching the microphone to the first reply audio reaching the sink, ms. */
  firstAudioMs: Spread;
  /** Engine compute per turn (STT, LLM to its first sentence, TTS of that sentence), p50 ms. */
  computeMs: { stt: number; llmToFirstSentence: number; ttsFirstSentence: number };
  /** Prompt tokens the LLM evaluated, per turn. */
  prefillTokens: number[];
  /** How far behind the microphone VAD and endpointing ran, per 32 ms frame over the whole conversation. */
  listenerLagMs: { p50: number; p95: number; max: number };
  /** Turns whose reply was prepared during the pause. */
  speculatedTurns: number;
  turns: TurnMetrics[];
}

/** A sink with no clock that notes when each turn's first audio arrives (a loudspeaker adds its own latency). */
class FirstAudioSink implements AudioSink {
  firstAt: number | undefined;
  async play(chunk: PcmChunk, signal: AbortSignal): Promise<number> {
    this.firstAt ??= performance.now();
    return signal.aborted ? 0 : chunk.samples.length;
  }
}

/** One agent set-up of a comparison: its engines (an LLM of its own, so each keeps its own prompt cache) and options. */
export interface ConversationSetup {
  label: string;
  engines: AgentEngineSet;
  options: AgentOptions;
}

/**
 * Scripted conversations in real time, one per set-up, interleaved question by question so that the machine's
 * load falls on every set-up alike: each question is played into each agent's microphone in turn (32 ms blocks
 * every 32 ms), the agent answers, and the next one is asked after a short gap — every history grows turn by
 * turn. The figure is what a user feels: from the question's last sample to the reply's first.
 */
export async function runConversations(setups: readonly ConversationSetup[], questions: readonly Float32Array[]): Promise<ConversationResult[]> {
  const runs = setups.map((setup) => {
    const sink = new FirstAudioSink();
    const agent = new Agent(setup.engines, { ...setup.options, sink, interruption: { enabled: false } });
    const turns: TurnMetrics[] = [];
    const errors: Error[] = [];
    agent.on('metrics', (m) => turns.push(m));
    agent.on('error', ({ error }) => errors.push(error));
    agent.start();
    return { agent, sink, turns, errors, firstAudio: [] as number[], lag: [] as number[] };
  });
  try {
    for (const [i, q] of questions.entries()) {
      // The set-up that goes first rotates, so none of them always follows the same one.
      for (let k = 0; k < runs.length; k++) {
        const run = runs[(i + k) % runs.length];
        const feed = new LiveFeed(run.agent);
        feed.start();
        await sleep(300);
        run.agent.listenerLag.reset();
        run.sink.firstAt = undefined;
        const before = run.turns.length;
        // The feed pushes sample k in the 32 ms block that ends at feed time (floor(k / 512) + 1) * 32 ms.
        const feedStart = performance.now() - feed.now();
        const firstSample = Math.round((feed.now() / 1000) * 16000);
        feed.say(q, 0);
        const endOfSpeech = feedStart + (Math.floor((firstSample + q.length - 1) / 512) + 1) * 32;
        while (run.turns.length === before && run.errors.length === 0) await sleep(10);
        await feed.stop();
        if (run.errors.length > 0) throw run.errors[0];
        if (run.sink.firstAt !== undefined) run.firstAudio.push(run.sink.firstAt - endOfSpeech);
        run.lag.push(...run.agent.listenerLag.samples());
      }
    }
  } finally {
    await Promise.all(runs.map((r) => r.agent.close()));
  }
  return runs.map((run) => {
    const median = (pick: (t: TurnMetrics) => number | undefined) =>
      spread(run.turns.map(pick).filter((v): v is number => v !== undefined)).p50;
    const lag = spread(run.lag.length > 0 ? run.lag : [0]);
    const lagMax = Math.max(0, ...run.lag);
    return {
      firstAudioMs: spread(run.firstAudio),
      computeMs: {
        stt: median((t) => t.compute.stt),
        llmToFirstSentence: median((t) => t.compute.llmToFirstSentence),
        ttsFirstSentence: median((t) => t.compute.ttsFirstSentence),
      },
      prefillTokens: run.turns.map((t) => t.compute.prefillTokens ?? NaN),
      listenerLagMs: { p50: lag.p50, p95: lag.p95, max: round(lagMax) },
      speculatedTurns: run.turns.filter((t) => t.speculated).length,
      turns: run.turns,
    };
  });
}
