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

/**
 * A scripted conversation in real time: each question is played into the microphone (32 ms blocks every 32 ms),
 * the agent answers, the next question follows a second after the reply's end — the history grows turn by turn.
 * The figure is what a user feels: from the question's last sample to the reply's first.
 */
export async function runConversation(
  engines: AgentEngineSet,
  questions: readonly Float32Array[],
  options: AgentOptions,
): Promise<ConversationResult> {
  const sink = new FirstAudioSink();
  const agent = new Agent(engines, { ...options, sink, interruption: { enabled: false } });
  const turns: TurnMetrics[] = [];
  agent.on('metrics', (m) => turns.push(m));
  const errors: Error[] = [];
  agent.on('error', ({ error }) => errors.push(error));
  const feed = new LiveFeed(agent);
  agent.start();
  feed.start();
  const firstAudio: number[] = [];
  try {
    await sleep(500);
    agent.listenerLag.reset();
    for (const q of questions) {
      sink.firstAt = undefined;
      const before = turns.length;
      // The feed pushes sample k in the 32 ms block that ends at feed time (floor(k / 512) + 1) * 32 ms.
      const feedStart = performance.now() - feed.now();
      const firstSample = Math.round((feed.now() / 1000) * 16000);
      feed.say(q, 0);
      const endOfSpeech = feedStart + (Math.floor((firstSample + q.length - 1) / 512) + 1) * 32;
      while (turns.length === before) await sleep(10);
      if (sink.firstAt !== undefined) firstAudio.push(sink.firstAt - endOfSpeech);
      if (errors.length > 0) throw errors[0];
      await sleep(1000);
    }
  } finally {
    await feed.stop();
    await agent.close();
  }
  const median = (pick: (t: TurnMetrics) => number | undefined) => spread(turns.map(pick).filter((v): v is number => v !== undefined)).p50;
  const lag = agent.listenerLag.stats();
  return {
    firstAudioMs: spread(firstAudio),
    computeMs: {
      stt: median((t) => t.compute.stt),
      llmToFirstSentence: median((t) => t.compute.llmToFirstSentence),
      ttsFirstSentence: median((t) => t.compute.ttsFirstSentence),
    },
    prefillTokens: turns.map((t) => t.compute.prefillTokens ?? NaN),
    listenerLagMs: { p50: round(lag.p50), p95: round(lag.p95), max: round(lag.max) },
    speculatedTurns: turns.filter((t) => t.speculated).length,
    turns,
  };
}
