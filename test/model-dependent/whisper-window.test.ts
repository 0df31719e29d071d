import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWavForPipeline } from '../../src/audio/wav.js';
import { isEarshotError } from '../../src/errors.js';
import { resolveModel } from '../../src/models/resolve.js';
import { loadWhisperEngine } from '../../src/stt/whisper-engine.js';
import { loadSmartTurn } from '../../src/turn/turn-end-model.js';
import { fliteSpeech } from '../support/speech-fixtures.js';

function installed(role: 'stt' | 'turn'): string | { skip: string } {
  try {
    return resolveModel(role, undefined).path;
  } catch (e) {
    if (isEarshotError(e)) return { skip: e.message };
    throw e;
  }
}

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const stt = installed('stt');
const turn = installed('turn');
if (typeof stt !== 'string') console.log(`whisper window test skipped, the real whisper model is not installed (${stt.skip})`);
if (typeof turn !== 'string') console.log(`Smart Turn test skipped, the real turn model is not installed (${turn.skip})`);

describe.skipIf(typeof stt !== 'string')('whisper with the fitted encoder window, real weights', () => {
  it('transcribes real recordings exactly as the full 30 s window does', async () => {
    if (typeof stt !== 'string') return;
    const names = readFileSync(join(LIBRIVOX, 'transcription'), 'utf8').match(/sense_and_sensibility_01_austen_64kb-\d+/g) ?? [];
    expect(names.length).toBeGreaterThan(0);
    const full = await loadWhisperEngine({ modelPath: stt, audioContext: 'full' });
    const fit = await loadWhisperEngine({ modelPath: stt, audioContext: 'fit' });
    try {
      for (const name of names) {
        const audio = (await readWavForPipeline(join(LIBRIVOX, `${name}.wav`))).samples;
        const [a, b] = [await full.transcribe(audio), await fit.transcribe(audio)];
        console.log(`${name}: full ${a.computeMs.toFixed(0)} ms, fit ${b.computeMs.toFixed(0)} ms: ${a.text}`);
        expect(b.text).toBe(a.text);
      }
    } finally {
      await Promise.all([full.dispose(), fit.dispose()]);
    }
  }, 600_000);
});

describe.skipIf(typeof turn !== 'string')('Smart Turn v3, real weights', () => {
  it('rates a finished question as more complete than the same question cut off', async () => {
    if (typeof turn !== 'string') return;
    const model = await loadSmartTurn({ modelPath: turn });
    try {
      const done = await model.predict(await fliteSpeech('What is the capital of France?'));
      const cut = await model.predict(await fliteSpeech('What is the capital of'));
      console.log(`Smart Turn: finished ${done.toFixed(3)}, cut off ${cut.toFixed(3)}`);
      expect(done).toBeGreaterThan(0.5);
      expect(done).toBeGreaterThan(cut);
    } finally {
      await model.dispose();
    }
  });
});
