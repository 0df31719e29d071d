import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeScriptedWhisperModel } from '../test/fixtures/models/whisper-ggml.js';
import { packageRoot } from '../src/util/package-root.js';
import { benchLlm } from './llm.js';
import { benchMasking } from './masking.js';
import { benchPartialStt } from './partial-stt.js';
import { benchPipeline } from './pipeline.js';
import { benchStt, ensureElevenSecondClip } from './stt.js';
import { benchTts } from './tts.js';
import { benchEchoVad, benchVad } from './vad.js';
import { parseArgs } from 'node:util';
import { benchRealShapes, realShapesTable, writeReport } from './real-shapes.js';

const USAGE = `npm run bench [-- vad|stt|llm|tts|pipeline ...]      each engine with the small generated shapes
npm run bench -- --shapes real [--json FILE] [--presets tiny,small] [--turns 10] [--stt-window full|fit]
    (--turns 0: whisper's windows only)
    a live scripted conversation per preset with models of real size (generated once into .cache/bench/real):
    end of speech to first audio with and without speculation and with a turn model, per-stage compute,
    prefill tokens per turn, the listener's lag behind the microphone, whisper's full and fitted window for the
    F16, Q8_0 and Q5_1 variants`;

/**
 * `npm run bench`: each engine on fixed inputs, with the speed of a reference measured in the same run, so
 * the figures compare like with like on whatever machine runs them. Nothing here is a pass/fail test.
 */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      shapes: { type: 'string', default: 'small' },
      json: { type: 'string' },
      presets: { type: 'string', default: 'tiny,small' },
      turns: { type: 'string', default: '10' },
      'stt-window': { type: 'string', default: 'full' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values.shapes === 'real') {
    const turns = Number(values.turns);
    if (!Number.isInteger(turns) || turns < 0) throw new Error(`--turns must be a whole number (0: whisper's windows only), got ${values.turns}`);
    const sttWindow = values['stt-window'];
    if (sttWindow !== 'full' && sttWindow !== 'fit') throw new Error(`--stt-window must be 'full' or 'fit', got '${sttWindow}'`);
    const report = await benchRealShapes({ presets: values.presets.split(','), turns, sttWindow, log: (line) => console.log(line) });
    console.log(realShapesTable(report));
    if (values.json) await writeReport(values.json, report);
    return;
  }
  if (values.shapes !== 'small') throw new Error(`--shapes must be 'small' or 'real', got '${values.shapes}'`);
  const only = new Set(positionals);
  const want = (name: string) => only.size === 0 || only.has(name);
  const cache = join(packageRoot(), '.cache', 'bench');
  console.log(`earshot bench · ${availableParallelism()} cores · node ${process.version}`);
  const clip = await ensureElevenSecondClip();

  if (want('vad')) {
    const v = await benchVad(clip);
    console.log(`VAD   Silero v5: ${v.msPerSecondOfAudio.toFixed(2)} ms per second of audio (${v.audioSeconds.toFixed(1)} s clip)`);
    for (const mode of ['gate', 'aec'] as const) {
      const g = await benchEchoVad(clip, mode);
      console.log(
        `VAD   while speaking (echo ${mode === 'aec' ? 'canceller' : 'gate'} + Silero): ${g.totalMsPerSecond.toFixed(2)} ms per second of audio ` +
          `(${(g.coreShare * 100).toFixed(1)}% of one core, target <= 10%; Silero alone ${g.vadMsPerSecond.toFixed(2)})`,
      );
    }
  }
  if (want('stt')) {
    const modelPath = join(cache, 'whisper-scripted-tiny.en.bin');
    await writeScriptedWhisperModel({ path: modelPath, script: 'What is the capital of France?', shape: 'tiny.en' });
    const s = await benchStt({ modelPath, wavPath: clip });
    console.log(
      `STT   whisper.cpp tiny.en shape, 11 s clip: earshot ${s.addonMs.toFixed(0)} ms · whisper-cli (native build) ` +
        `${s.cliMs.toFixed(0)} ms total, ${s.cliComputeMs.toFixed(0)} ms compute · ratio ${s.ratio.toFixed(2)}x total, ` +
        `${s.ratioVsCompute.toFixed(2)}x compute (target <= 1.3x)`,
    );
  }
  if (want('partial')) {
    const modelPath = join(cache, 'whisper-scripted-tiny.en.bin');
    await writeScriptedWhisperModel({ path: modelPath, script: 'What is the capital of France?', shape: 'tiny.en' });
    for (const p of await benchPartialStt({ modelPath, wavPath: clip, seconds: [2, 5] })) {
      console.log(
        `PART  partial transcript, tiny.en shape, ${p.audioSeconds} s of speech: short window ${p.shortWindowMs.toFixed(0)} ms · ` +
          `whole window (a final transcript) ${p.wholeWindowMs.toFixed(0)} ms · ratio ${(p.shortWindowMs / p.wholeWindowMs).toFixed(2)}x`,
      );
    }
  }
  if (want('llm')) {
    // The agent's default gives the LLM one core fewer than the machine has; all cores is the reference.
    const cores = availableParallelism();
    for (const threads of [...new Set([Math.max(1, cores - 1), cores])]) {
      const l = await benchLlm({ threads });
      console.log(
        `LLM   llama width 512 x 8 layers, ${threads} thread${threads > 1 ? 's' : ''}: ${l.tokensPerSecond.toFixed(0)} tokens/s · ` +
          `first token ${l.firstTokenMs.toFixed(0)} ms`,
      );
    }
  }
  if (want('tts')) {
    const t = await benchTts();
    console.log(`TTS   Piper-contract voice: real-time factor ${t.realTimeFactor.toFixed(4)} (${t.ms.toFixed(1)} ms for ${t.audioMs.toFixed(0)} ms of audio)`);
  }
  if (want('pipeline')) {
    const p = await benchPipeline();
    console.log(
      `PIPE  end of speech to first audio ${p.firstAudioMs.toFixed(0)} ms with generated models · endpointer lag ` +
        `${p.endpointLagMs.toFixed(1)} ms past the 500 ms silence · pipeline overhead ${p.overheadMs.toFixed(1)} ms (target <= 30 ms)`,
    );
  }
  if (want('masking')) {
    const m = await benchMasking();
    const s = m.firstSoundMs;
    console.log(
      `MASK  tool taking ${m.toolMs} ms: end of speech to first sound — unmasked ${s.off.toFixed(0)} ms · earcon ` +
        `${s.earcon.toFixed(0)} ms (${(s.earcon / s.off).toFixed(2)}x) · phrase ${s.phrase.toFixed(0)} ms (${(s.phrase / s.off).toFixed(2)}x); ` +
        `the reply itself at ${m.replyFirstAudioMs.toFixed(0)} ms`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
