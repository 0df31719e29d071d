import type { Agent } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import { loadSileroVad } from '../../src/vad/silero-vad.js';
import { trimmedSpeech } from '../../test/support/speech-fixtures.js';
import { testModels } from '../../test/support/test-models.js';
import { FrameCountingVad, FrameGatedFeed } from './frame-gated-feed.js';
import { readMemory } from './memory-probe.js';
import { SoakSink } from './soak-sink.js';
import { defaultSoakBound, judgeSoak, type SoakBound, type SoakSample, type SoakVerdict } from './soak-verdict.js';

export interface SoakOptions {
  /** How long to run, minutes (after `settleTurns`). */
  minutes: number;
  /**
   * Turns run before the minutes start, all of them warm-up: the allocators, V8's heap and the engines' caches
   * settle in the first thousand or so turns, however long that takes on the machine. Default: 0.
   */
  settleTurns?: number;
  /** Turns between two readings. Default: 100. */
  sampleEvery?: number;
  /** Rounds of the script between two idle resets (by turns forget() and the idle timer). Default: 5. */
  resetEveryRounds?: number;
  /** CPU threads per engine. Default: 1 (the soak measures memory, not speed). */
  threads?: number;
  /** MALLOC_ARENA_MAX the process runs with, for the report ('default': glibc's own). Default: 'default'. */
  mallocArenas?: string;
  bound?: Partial<SoakBound>;
  /** Receives one line per reading and the verdict. Default: none. */
  log?: (line: string) => void;
}

/** What happened in the soak, counted from the agent's own events. */
export interface SoakCounts {
  turns: number;
  spokenTurns: number;
  typedTurns: number;
  /** Replies cut by speech over them ('barge-in' cut). */
  bargeIns: number;
  /** Turns whose reply was prepared during the pause (metrics `speculated`). */
  speculations: number;
  /** Conversations forgotten ('forgotten' events): by forget() and by the idle timer. */
  resets: number;
  idleResets: number;
  errors: number;
}

export interface SoakReport {
  options: { minutes: number; settleTurns: number; sampleEvery: number; resetEveryRounds: number; threads: number; mallocArenas: string; node: string };
  counts: SoakCounts;
  /** The first agent errors, one line each (all are counted in `counts.errors`). */
  errors: string[];
  samples: SoakSample[];
  verdict: SoakVerdict;
}

/** Typed turns the soak starts with (see runSoak); they count as turns, and fall in the warm-up. */
const WARM_UP_TYPED_TURNS = 150;

/** Silence after which the soak's agent forgets the conversation by itself; the script waits this long every other reset. */
const IDLE_RESET_MS = 500;

/**
 * Drives one scripted conversation through a real agent (Silero, whisper.cpp, llama.cpp and Piper on the
 * project's generated models) for `minutes`, as fast as the engines go, and reads memory and open descriptors
 * every `sampleEvery` turns. A round of the script is: a question spoken in one go (its pause starts a
 * speculative turn that is promoted), a typed question, a question spoken with a pause in the middle (the
 * speculation is dropped when speech comes back), and a typed question whose reply plays in real time and is
 * cut by speech over it (a barge-in; the interrupting words are the next turn). Every `resetEveryRounds` rounds
 * the conversation is forgotten: by forget(), or, every other time, by the idle reset after a silence (the next
 * visitor's first spoken turn is then greeted).
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const sampleEvery = options.sampleEvery ?? 100;
  const resetEveryRounds = options.resetEveryRounds ?? 5;
  const threads = options.threads ?? 1;
  const log = options.log ?? (() => undefined);
  const [question, first, rest, interruption] = await Promise.all([
    trimmedSpeech('What is the capital of France?'),
    trimmedSpeech('What is the capital'),
    trimmedSpeech('of France?'),
    trimmedSpeech('Stop, wait. Tell me about Berlin instead.'),
  ]);
  const vad = new FrameCountingVad(await loadSileroVad({ threads: 1 }));
  const sink = new SoakSink();
  const agent = await createAgent({
    models: { stt: testModels.stt, llm: testModels.llm, voice: testModels.voice, espeakData: testModels.espeakData },
    engines: { vad },
    threads,
    gpu: 'off',
    // whisper's window fitted to the utterance: several times faster on short questions, so more turns a minute.
    sttWindow: 'fit',
    sink,
    // The echo canceller keeps the microphone's clock against the speaker's: it needs a real-time microphone,
    // and this one runs faster. Nothing plays into it anyway.
    interruption: { duplex: 'full' },
    idleReset: { afterMs: IDLE_RESET_MS, greeting: 'Hello! Ask me anything.' },
  });
  const feed = new FrameGatedFeed(agent, vad);
  const counts: SoakCounts = { turns: 0, spokenTurns: 0, typedTurns: 0, bargeIns: 0, speculations: 0, resets: 0, idleResets: 0, errors: 0 };
  const errors: string[] = [];
  agent.on('forgotten', ({ reason }) => {
    counts.resets++;
    if (reason === 'idle') counts.idleResets++;
  });
  agent.on('metrics', (m) => {
    counts.turns++;
    if (m.speculated) counts.speculations++;
  });
  agent.on('barge-in', (e) => {
    if (e.action !== 'cut') return;
    counts.bargeIns++;
    // The cut reply is gone; the interrupting words' own reply need not play in real time.
    sink.paced = false;
  });
  agent.on('error', ({ error }) => {
    counts.errors++;
    if (errors.length < 20) errors.push(error.message.split('\n')[0]);
  });

  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const sample = () => {
    const s: SoakSample = { turns: counts.turns, elapsedS: Math.round((performance.now() - t0) / 100) / 10, ...readMemory() };
    samples.push(s);
    log(sampleLine(s, counts));
  };
  const settleTurns = options.settleTurns ?? 0;
  let deadline = settleTurns > 0 ? Infinity : t0 + options.minutes * 60_000;
  let nextSampleAt = sampleEvery;
  const step = async (run: () => Promise<void>) => {
    await run();
    if (counts.turns >= nextSampleAt) {
      sample();
      nextSampleAt = (Math.floor(counts.turns / sampleEvery) + 1) * sampleEvery;
    }
  };
  const endSilence = 700;

  agent.start();
  try {
    sample();
    // Warm-up, fast: typed turns with the history at its longest evaluate enough tokens for llama.cpp to have used
    // every cell of its KV cache once (it moves on through the cells as it goes), which the script's own turns,
    // forgotten every few rounds, take hundreds of turns to do. Until then RSS climbs by the cache's size.
    for (let i = 0; i < WARM_UP_TYPED_TURNS; i++) {
      counts.typedTurns++;
      await agent.sendText(`Tell me something about Paris, number ${i}.`);
    }
    await agent.forget();
    for (let round = 1; performance.now() < deadline; round++) {
      if (deadline === Infinity && counts.turns >= settleTurns) deadline = performance.now() + options.minutes * 60_000;
      await step(async () => {
        counts.spokenTurns++;
        await feed.say(question, endSilence);
        await agent.flush();
      });
      await step(async () => {
        counts.typedTurns++;
        await agent.sendText('Tell me about Paris.');
      });
      await step(async () => {
        counts.spokenTurns++;
        await feed.say(first, 350);
        await feed.say(rest, endSilence);
        await agent.flush();
      });
      await step(async () => {
        counts.typedTurns++;
        sink.paced = true;
        const reply = agent.sendText('What else is there to see?');
        await waitFor(agent, 'audio', 30_000);
        // Every other time some of the reply is heard before the cut; otherwise it is cut before its first word,
        // and the unanswered question joins the interrupting words.
        if (round % 2 === 0) await sleep(400);
        counts.spokenTurns++;
        await feed.say(interruption, endSilence);
        await reply;
        await agent.flush();
        sink.paced = false;
      });
      if (round % resetEveryRounds === 0) {
        if (round % (2 * resetEveryRounds) === 0) await agent.forget();
        else await waitFor(agent, 'forgotten', IDLE_RESET_MS + 10_000);
      }
    }
  } finally {
    await agent.close();
    await vad.dispose();
  }
  const verdict = judgeSoak(samples, { ...options.bound, minWarmupTurns: Math.max(options.bound?.minWarmupTurns ?? defaultSoakBound.minWarmupTurns, settleTurns) });
  return {
    options: { minutes: options.minutes, settleTurns, sampleEvery, resetEveryRounds, threads, mallocArenas: options.mallocArenas ?? 'default', node: process.version },
    counts,
    errors,
    samples,
    verdict,
  };
}

/** The next `event` of the agent, or an error after `timeoutMs`. */
function waitFor(agent: Agent, event: 'forgotten' | 'audio', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event within ${timeoutMs} ms`)), timeoutMs);
    agent.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sampleLine(s: SoakSample, c: SoakCounts): string {
  const mb = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));
  return (
    `turn ${String(s.turns).padStart(6)}  ${String(Math.round(s.elapsedS)).padStart(5)} s  rss ${mb(s.rssMb)} MB  heap ${mb(s.heapUsedMb)} of ${mb(s.heapTotalMb)}  ` +
    `external ${mb(s.externalMb)}  arrayBuffers ${mb(s.arrayBuffersMb)}  rssAnon ${mb(s.rssAnonMb)}  rssFile ${mb(s.rssFileMb)}  ` +
    `fds ${s.fds ?? '-'}  barge-ins ${c.bargeIns}  speculations ${c.speculations}  resets ${c.resets} (${c.idleResets} idle)  errors ${c.errors}`
  );
}
