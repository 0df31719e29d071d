import { describe, expect, it } from 'vitest';
import { defaultAgentOptions, resolveAgentOptions } from '../../../src/agent/agent-options.js';
import { planThreads } from '../../../src/agent/thread-plan.js';
import { defaultEndpointingOptions } from '../../../src/turn/endpointing-options.js';
import { withDefaults } from '../../../src/util/with-defaults.js';

describe('planThreads', () => {
  it('gives whisper every core, the LLM one fewer and TTS the rest', () => {
    expect(planThreads(2)).toEqual({ stt: 2, llm: 1, tts: 1, vad: 1 });
    expect(planThreads(8)).toEqual({ stt: 8, llm: 7, tts: 1, vad: 1 });
  });

  it('never plans fewer than one thread, even on one core', () => {
    expect(planThreads(1)).toEqual({ stt: 1, llm: 1, tts: 1, vad: 1 });
  });

  it('an explicit thread count goes to STT, LLM and TTS alike; the VAD keeps one', () => {
    expect(planThreads(8, 3)).toEqual({ stt: 3, llm: 3, tts: 3, vad: 1 });
  });
});

describe('resolveAgentOptions', () => {
  it('fills every default from defaultAgentOptions', () => {
    const r = resolveAgentOptions({}, 4);
    expect(r.language).toBe(defaultAgentOptions.language);
    expect(r.maxReplyTokens).toBe(defaultAgentOptions.maxReplyTokens);
    expect(r.endpointing).toEqual(defaultEndpointingOptions);
    expect(r.threads).toEqual(planThreads(4));
  });

  it('keeps what is given, merges partial option groups, and ignores undefined values', () => {
    const r = resolveAgentOptions({ language: 'de', endpointing: { endSilenceMs: 300, minSpeechMs: undefined } }, 2);
    expect(r.language).toBe('de');
    expect(r.endpointing.endSilenceMs).toBe(300);
    expect(r.endpointing.minSpeechMs).toBe(defaultEndpointingOptions.minSpeechMs);
  });
});

describe('withDefaults', () => {
  it('an option given as undefined keeps its default', () => {
    expect(withDefaults({ a: 1, b: 2 }, { a: undefined, b: 5 })).toEqual({ a: 1, b: 5 });
  });
});
