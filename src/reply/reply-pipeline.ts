import type { AudioSink } from '../audio/audio-sink.js';
import type { PcmChunk } from '../audio/pcm.js';
import { isAbortError } from '../errors.js';
import type { ChatTurn, LlmEngine, LlmFunction } from '../llm/llm-engine.js';
import { SentenceChunker, type SentenceChunkerOptions } from './sentence-chunker.js';
import { isSpeakable, toSpeakableText } from './speech-text.js';
import type { TtsEngine } from '../tts/tts-engine.js';
import { AsyncQueue } from './async-queue.js';
import { heardText, type PlayedPiece } from './spoken-text.js';
import type { TurnClock } from '../agent/turn-metrics.js';

export interface ReplyCallbacks {
  onDelta(delta: string): void;
  onSentence(text: string): void;
  onAudio(chunk: PcmChunk, text: string): void;
  /** The first audio of the reply is about to play. */
  onSpeaking(): void;
}

export interface ReplyResult {
  reply: string;
  spoken: string;
  interrupted: boolean;
}

interface Synthesized {
  text: string;
  chunk: PcmChunk;
}

/**
 * One reply, streamed through three concurrent stages joined by queues: the LLM writes text, the chunker cuts
 * it into sentences, TTS voices each sentence while the sink plays the one before. The turn's AbortSignal is
 * the only stop: every stage checks it and returns what it had.
 */
export async function streamReply(args: {
  llm: LlmEngine | undefined;
  tts: TtsEngine;
  sink: AudioSink | undefined;
  systemPrompt: string;
  history: readonly ChatTurn[];
  /** Speak this text instead of asking the LLM (say()). */
  fixedText?: string;
  chunking: Partial<SentenceChunkerOptions>;
  signal: AbortSignal;
  clock: TurnClock;
  callbacks: ReplyCallbacks;
  maxTokens?: number;
  /** Nothing plays (and no first audio is marked) before this resolves: a speculative turn's hold. */
  holdPlayback?: Promise<void>;
  /** Functions the model may call; `speak` voices a tool's words at once, in order with the reply. Default: none. */
  functions?: (speak: (text: string) => void) => readonly LlmFunction[];
  /** Awaited just before the reply's first audio plays (a filler that is still playing ends there). */
  beforeFirstAudio?: () => Promise<void>;
}): Promise<ReplyResult> {
  const { tts, sink, clock, callbacks } = args;
  // A stage that fails stops the others through the same signal path an interruption uses.
  const failed = new AbortController();
  const signal = AbortSignal.any([args.signal, failed.signal]);
  const sentences = new AsyncQueue<string>();
  const audio = new AsyncQueue<Synthesized>();
  const chunker = new SentenceChunker(args.chunking);
  const pieces: PlayedPiece[] = [];
  let reply = '';
  const llmStart = performance.now();

  const pushSentences = (list: string[]) => {
    for (const s of list) {
      if (!clock.has('firstSentence')) {
        clock.mark('firstSentence');
        clock.compute.llmToFirstSentence = performance.now() - llmStart;
      }
      callbacks.onSentence(s);
      sentences.push(s);
    }
  };

  let toolSpoke = false;
  /** Words a tool asked to have said: whatever text is pending goes first, then these, as one piece. */
  const speak = (text: string) => {
    toolSpoke = true;
    const delta = `${reply === '' || /\s$/.test(reply) ? '' : ' '}${text} `;
    reply += delta;
    callbacks.onDelta(delta);
    pushSentences([...chunker.flush(), text]);
  };

  const write = async (): Promise<void> => {
    try {
      if (args.fixedText !== undefined) {
        reply = args.fixedText;
        clock.mark('firstToken');
        pushSentences(chunker.push(args.fixedText));
      } else if (args.llm) {
        const result = await args.llm.generate(args.systemPrompt, args.history, {
          signal,
          maxTokens: args.maxTokens,
          functions: args.functions?.(speak),
          onTextDelta: (delta) => {
            clock.mark('firstToken');
            reply += delta;
            callbacks.onDelta(delta);
            pushSentences(chunker.push(delta));
          },
        });
        reply = toolSpoke ? reply.trim() : result.text;
        clock.compute.prefillTokens = result.prefillTokens;
      }
      if (!signal.aborted) pushSentences(chunker.flush());
    } finally {
      sentences.close();
    }
  };

  const voice = async (): Promise<void> => {
    try {
      for await (const text of sentences) {
        if (signal.aborted) break;
        const speakable = toSpeakableText(text);
        if (!isSpeakable(speakable)) continue;
        const t = performance.now();
        const samples = await tts.synthesize(speakable, { signal });
        if (clock.compute.ttsFirstSentence === undefined) clock.compute.ttsFirstSentence = performance.now() - t;
        audio.push({ text, chunk: { samples, sampleRate: tts.sampleRate } });
      }
    } catch (e) {
      if (!isAbortError(e)) throw e;
    } finally {
      audio.close();
    }
  };

  const play = async (): Promise<void> => {
    await args.holdPlayback;
    for await (const { text, chunk } of audio) {
      const piece: PlayedPiece = { text, samples: chunk.samples.length, played: 0 };
      pieces.push(piece);
      if (signal.aborted) break;
      if (!clock.has('firstAudio')) {
        await args.beforeFirstAudio?.();
        if (signal.aborted) break;
        clock.mark('firstAudio');
        callbacks.onSpeaking();
      }
      callbacks.onAudio(chunk, text);
      piece.played = sink ? await sink.play(chunk, signal) : chunk.samples.length;
    }
  };

  const failFast = (stage: Promise<void>) =>
    stage.catch((e: unknown) => {
      if (!isAbortError(e)) failed.abort(e);
      throw e;
    });
  const stages = await Promise.allSettled([failFast(write()), failFast(voice()), failFast(play())]);
  const failure = stages.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !isAbortError(s.reason));
  if (failure) throw failure.reason;

  const interrupted = args.signal.aborted;
  return { reply, spoken: interrupted ? heardText(pieces) : reply, interrupted };
}
