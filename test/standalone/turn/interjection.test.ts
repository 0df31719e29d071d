import { describe, expect, it } from 'vitest';
import { BargeIn, type BargeInEvent } from '../../../src/turn/barge-in.js';
import { classifyInterjection } from '../../../src/turn/interjection.js';
import { defaultInterruptionOptions } from '../../../src/turn/interruption-options.js';

const phrases = defaultInterruptionOptions;

describe('classifyInterjection', () => {
  it.each(['Mm-hm.', 'mhm', 'Yeah.', 'Okay!', 'Right.', 'Yeah, okay.', 'Uh-huh, right', 'I see.'])('"%s" is a backchannel', (text) => {
    expect(classifyInterjection(text, phrases)).toBe('backchannel');
  });

  it.each(['Stop.', 'Wait.', 'No.', 'Excuse me.', 'Okay, stop.', 'Yeah, no.', 'Hold on, I have another question', 'What about Berlin?'])(
    '"%s" is an interruption',
    (text) => {
      expect(classifyInterjection(text, phrases)).toBe('interruption');
    },
  );

  it('finds nothing in an empty or punctuation-only transcript', () => {
    expect(classifyInterjection('', phrases)).toBe('nothing');
    expect(classifyInterjection(' ... ', phrases)).toBe('nothing');
  });

  it('takes its lists from the options', () => {
    const custom = { backchannels: ['genau'], stopPhrases: ['halt'] };
    expect(classifyInterjection('Genau.', custom)).toBe('backchannel');
    expect(classifyInterjection('Yeah.', custom)).toBe('interruption');
    expect(classifyInterjection('Genau, halt!', custom)).toBe('interruption');
  });
});

describe('BargeIn decisions on what was said', () => {
  function bargeIn() {
    const actions: string[] = [];
    const events: BargeInEvent['action'][] = [];
    const b = new BargeIn(
      { ...defaultInterruptionOptions, falseInterruptionTimeoutMs: 60_000 },
      { pause: () => actions.push('pause'), resume: () => actions.push('resume'), cut: () => actions.push('cut'), userSpeaking: () => false },
      (e) => events.push(e.action),
    );
    return { b, actions, events };
  }

  it('a backchannel resumes the paused reply and is not an interruption', () => {
    const { b, actions } = bargeIn();
    b.onSpeechStart(1000);
    expect(b.onTranscript('backchannel')).toBe(false);
    expect(actions).toEqual(['pause', 'resume']);
    expect(b.pending).toBe(false);
  });

  it('an interruption cuts', () => {
    const { b, actions } = bargeIn();
    b.onSpeechStart(1000);
    expect(b.onTranscript('interruption')).toBe(true);
    expect(actions).toEqual(['pause', 'cut']);
  });

  it('a backchannel that outlasted the confirm time is answered: the reply was already cut', () => {
    const { b, actions } = bargeIn();
    b.onSpeechStart(1000);
    b.onSpeech(1000 + defaultInterruptionOptions.confirmSpeechMs);
    expect(b.onTranscript('backchannel')).toBe(true);
    expect(actions).toEqual(['pause', 'cut']);
  });
});
