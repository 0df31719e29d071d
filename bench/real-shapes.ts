import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AgentEngineSet } from '../src/agent/agent.js';
import { loadLlamaEngine } from '../src/llm/llama-engine.js';
import { loadWhisperEngine } from '../src/stt/whisper-engine.js';
import { loadPiperTts } from '../src/tts/piper-tts-engine.js';
import { loadSmartTurn } from '../src/turn/turn-end-model.js';
import { loadSileroVad } from '../src/vad/silero-vad.js';
import { planThreads } from '../src/agent/thread-plan.js';
import { packageRoot } from '../src/util/package-root.js';
import { writeRealShapeLlama, type LlamaShapeName } from '../test/fixtures/models/gguf-llama-real.js';
import { writeTestVoice } from '../test/fixtures/models/piper-voice.js';
import { writeScriptedSmartTurn } from '../test/fixtures/models/smart-turn.js';
import { writeScriptedWhisperModel, type ScriptedWhisperShape } from '../test/fixtures/models/whisper-ggml.js';
import { trimmedSpeech } from '../test/support/speech-fixtures.js';
import { generateTestModels, SYSTEM_ESPEAK_DATA, testModels, testModelsReady } from '../test/support/test-models.js';
import { runConversations, spread, type ConversationResult, type Spread } from './conversation.js';

/** The presets of model-manifest.json, as shapes the generators can write. */
const PRESETS: Record<string, { stt: ScriptedWhisperShape; llm: LlamaShapeName; gb: number }> = {
  tiny: { stt: 'tiny.en', llm: '1b', gb: 1.2 },
  small: { stt: 'base.en', llm: '3b', gb: 2.6 },
  medium: { stt: 'small.en', llm: '8b', gb: 6.5 },
};

/** Ten questions of different lengths, spoken by flite; whisper's script answers each as the same words. */
const QUESTIONS = [
  'What is the capital of France?',
  'And how many people live there?',
  'Tell me something about its history, please.',
  'Which river runs through the city?',
  'Is it a good idea to visit in winter, or is the spring better?',
  'What should I eat there?',
  'How long does the train from London take?',
  'Thanks. What about the museums?',
  'Which one is the most famous?',
  'Great, that is all for now.',
];
const SCRIPT = 'What is the capital of France?';
const SYSTEM_PROMPT =
  'You are a helpful voice assistant. Your answers are spoken aloud, so keep them short: one to three plain sentences.';

export interface PresetFigures {
  models: { stt: string; llm: string; voice: string };
  firstAudioMs: Spread;
  firstAudioMsNoSpeculation: Spread;
  /** Speculation on and a turn-end model that judges every pause complete at its 200 ms check point. */
  firstAudioMsTurnModel: Spread;
  /** p50 per turn with speculation on. */
  computeMs: ConversationResult['computeMs'];
  prefillTokens: number[];
  listenerLagMsP95: number;
  listenerLagMsP95NoSpeculation: number;
  listenerLagMsMax: number;
  /** whisper on one 4.4 s question: the full 30 s window against the fitted one. */
  sttWindowMs: { full: number; fit: number };
  /** The same for each weight type the manifest lists for this model (F16, Q8_0, Q5_1), ms. */
  sttVariantsMs: Record<string, { full: number; fit: number }>;
  speculatedTurns: number;
}

/** Speculation on and off, with the small generated engines so the machine's load moves the figures less. */
export interface SpeculationCheck {
  /** whisper of the STT side: 'micro' keeps compute under the 300 ms between the speculation point and the endpoint. */
  stt: string;
  /** From the declared end of the turn to the first audio, with speculation (p50/p95), ms. */
  afterEndpointMs: Spread;
  firstAudioMs: Spread;
  firstAudioMsNoSpeculation: Spread;
  /** p50 without minus p50 with speculation, ms; at most endSilenceMs - afterMs (300) can be saved. */
  savingMs: number;
}

export interface RealShapesReport {
  machine: { cores: number; memoryGb: number; node: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  turns: number;
  sttWindow: 'full' | 'fit';
  speculationChecks: SpeculationCheck[];
  /** whisper's compute on one question per model and weight type: full 30 s window / fitted window, ms. */
  sttWindowsMs: Record<string, { full: number; fit: number }>;
  presets: Record<string, PresetFigures>;
}

/**
 * Speculation with compute shorter than the 300 ms between the speculation point and the end of the turn (a
 * micro whisper) and longer (the tiny.en shape's full window): the first should play within a few ms of the
 * endpoint, the second should save close to those 300 ms.
 */
async function speculationChecks(questions: readonly Float32Array[], sttPaths: Record<'micro' | 'tiny.en', string>): Promise<SpeculationCheck[]> {
  const checks: SpeculationCheck[] = [];
  const shared = {
    vad: await loadSileroVad(),
    tts: await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: SYSTEM_ESPEAK_DATA, threads: 1 }),
  };
  try {
    for (const stt of ['micro', 'tiny.en'] as const) {
      const whisper = await loadWhisperEngine({ modelPath: sttPaths[stt], threads: 2 });
      const llms = [await loadLlamaEngine({ modelPath: testModels.llm, threads: 1, gpu: 'off' }), await loadLlamaEngine({ modelPath: testModels.llm, threads: 1, gpu: 'off' })];
      try {
        const [off, on] = await runConversations(
          [
            { label: 'off', engines: { ...shared, stt: whisper, llm: llms[0] }, options: { speculation: { enabled: false }, turnEnd: { mode: 'silence' } } },
            { label: 'on', engines: { ...shared, stt: whisper, llm: llms[1] }, options: { turnEnd: { mode: 'silence' } } },
          ],
          questions,
        );
        checks.push({
          stt,
          afterEndpointMs: spread(on.turns.map((t) => (t.ms.firstAudio ?? NaN) - t.ms.endpoint)),
          firstAudioMs: on.firstAudioMs,
          firstAudioMsNoSpeculation: off.firstAudioMs,
          savingMs: Math.round(off.firstAudioMs.p50 - on.firstAudioMs.p50),
        });
      } finally {
        await Promise.all([whisper, ...llms].map((e) => e.dispose()));
      }
    }
  } finally {
    await Promise.all(Object.values(shared).map((e) => e.dispose()));
  }
  return checks;
}

async function modelFiles(preset: string): Promise<{ stt: string; llm: string; voice: string; turn: string }> {
  const dir = join(packageRoot(), '.cache', 'bench', 'real');
  const { stt, llm } = PRESETS[preset];
  const files = {
    stt: join(dir, `whisper-${stt}.bin`),
    llm: join(dir, `llama-3.2-${llm}-q4_k_m-shape.gguf`),
    voice: join(dir, 'voice-medium'),
    turn: join(dir, 'smart-turn-complete.onnx'),
  };
  const log = (what: string) => process.stderr.write(`bench: generating ${what} (once, into ${dir})\n`);
  if (!existsSync(files.stt)) {
    log(`whisper ${stt}`);
    await writeScriptedWhisperModel({ path: files.stt, script: SCRIPT, shape: stt });
  }
  if (!existsSync(files.llm)) {
    log(`Llama 3.2 ${llm} Q4_K_M shape`);
    await writeRealShapeLlama({ path: files.llm, shape: llm });
  }
  if (!existsSync(join(files.voice, 'tokens.txt'))) {
    log('Piper medium-compute voice');
    await writeTestVoice({ dir: files.voice, name: 'en_US-earshot_bench-medium', compute: 'medium' });
  }
  if (!existsSync(files.turn)) await writeScriptedSmartTurn({ path: files.turn, probability: 0.9 });
  return files;
}

/** The preset's whisper shape with each quantization the manifest lists for it, generated once. */
async function sttVariants(shape: ScriptedWhisperShape, threads: number, audio: Float32Array): Promise<Record<string, { full: number; fit: number }>> {
  const out: Record<string, { full: number; fit: number }> = {};
  for (const weights of ['f16', 'q8_0', 'q5_1'] as const) {
    const path = join(packageRoot(), '.cache', 'bench', 'real', `whisper-${shape}${weights === 'f16' ? '' : `-${weights}`}.bin`);
    if (!existsSync(path)) await writeScriptedWhisperModel({ path, script: SCRIPT, shape, weights });
    out[`${shape}${weights === 'f16' ? '' : `-${weights}`}`] = await sttWindows(path, threads, audio);
  }
  return out;
}

async function sttWindows(modelPath: string, threads: number, audio: Float32Array): Promise<{ full: number; fit: number }> {
  const out = { full: 0, fit: 0 };
  for (const audioContext of ['full', 'fit'] as const) {
    const stt = await loadWhisperEngine({ modelPath, threads, audioContext });
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push((await stt.transcribe(audio)).computeMs);
    out[audioContext] = spread(runs).p50;
    await stt.dispose();
  }
  return out;
}

export async function benchRealShapes(options: {
  presets: string[];
  turns: number;
  /** whisper's window in the conversations: 'full' (the presets' default) or 'fit'. */
  sttWindow: 'full' | 'fit';
  log: (line: string) => void;
}): Promise<RealShapesReport> {
  const loadAverageStart = loadavg().map((v) => Math.round(v * 100) / 100);
  const questions = await Promise.all(QUESTIONS.slice(0, Math.max(5, options.turns)).map((q) => trimmedSpeech(q)));
  while (questions.length < options.turns) questions.push(questions[questions.length % QUESTIONS.length]);
  const threads = planThreads(availableParallelism());
  const report: RealShapesReport = {
    machine: { cores: availableParallelism(), memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverageStart, loadAverageEnd: [] },
    turns: options.turns,
    sttWindow: options.sttWindow,
    speculationChecks: [],
    sttWindowsMs: {},
    presets: {},
  };
  if (!testModelsReady()) await generateTestModels();
  const tinyWhisper = (await modelFiles('tiny')).stt;
  if (options.turns > 0) report.speculationChecks = await speculationChecks(questions.slice(0, options.turns), { micro: testModels.stt, 'tiny.en': tinyWhisper });
  for (const c of report.speculationChecks) {
    options.log(
      `speculation check, whisper ${c.stt}: end of turn to first audio ${c.afterEndpointMs.p50} / ${c.afterEndpointMs.p95} ms (p50/p95); ` +
        `first audio ${c.firstAudioMs.p50} ms with, ${c.firstAudioMsNoSpeculation.p50} ms without: ${c.savingMs} ms saved of at most 300`,
    );
  }
  for (const preset of options.presets) {
    if (!PRESETS[preset]) throw new Error(`unknown preset '${preset}'; use ${Object.keys(PRESETS).join(', ')}`);
    if (PRESETS[preset].gb * 2 > totalmem() / 2 ** 30) {
      options.log(`${preset}: skipped, its models need about ${PRESETS[preset].gb} GB and this machine has less than twice that`);
      continue;
    }
    const files = await modelFiles(preset);
    options.log(
      `${preset}: ${PRESETS[preset].stt} (${options.sttWindow} window) + Llama 3.2 ${PRESETS[preset].llm} Q4_K_M shape + ` +
        `Piper medium compute, ${options.turns} turns per run`,
    );
    const sttVariantsMs = await sttVariants(PRESETS[preset].stt, threads.stt, questions[Math.min(4, questions.length - 1)]);
    const sttWindowMs = sttVariantsMs[PRESETS[preset].stt];
    Object.assign(report.sttWindowsMs, sttVariantsMs);
    options.log(`${preset} whisper full / fitted window (ms): ${Object.entries(sttVariantsMs).map(([k, v]) => `${k} ${v.full} / ${v.fit}`).join(', ')}`);
    if (options.turns === 0) continue;
    const shared = {
      vad: await loadSileroVad(),
      stt: await loadWhisperEngine({ modelPath: files.stt, threads: threads.stt, audioContext: options.sttWindow }),
      tts: await loadPiperTts({ voiceDir: files.voice, espeakDataDir: SYSTEM_ESPEAK_DATA, threads: threads.tts }),
    };
    // One LLM engine per set-up (the weights are mapped once): each keeps the prompt cache of its own conversation.
    const llm = () => loadLlamaEngine({ modelPath: files.llm, threads: threads.llm, gpu: 'off', temperature: 0 });
    const turnModel = await loadSmartTurn({ modelPath: files.turn });
    const setups = [
      { label: 'silence rule, no speculation', engines: { ...shared, llm: await llm() }, options: { speculation: { enabled: false } } },
      { label: 'silence rule, speculation', engines: { ...shared, llm: await llm() }, options: {} },
      { label: 'turn model (complete), speculation', engines: { ...shared, llm: await llm(), turn: turnModel }, options: {} },
    ] as const;
    try {
      const [noSpec, spec, turnEnd] = await runConversations(
        setups.map(({ label, engines, options }) => ({
          label,
          engines: engines as AgentEngineSet,
          options: { ...options, systemPrompt: SYSTEM_PROMPT, turnEnd: { mode: 'turn' in engines ? 'smart-turn' : 'silence' } },
        })),
        questions,
      );
      for (const [i, r] of [noSpec, spec, turnEnd].entries()) {
        options.log(
          `${preset} ${setups[i].label}: first audio p50 ${r.firstAudioMs.p50} ms, p95 ${r.firstAudioMs.p95} ms; ` +
            `listener lag p95 ${r.listenerLagMs.p95} ms; prefill ${r.prefillTokens.join(' ')}; speculated ${r.speculatedTurns}`,
        );
      }
      report.presets[preset] = {
        models: { stt: PRESETS[preset].stt, llm: `${PRESETS[preset].llm} Q4_K_M`, voice: 'Piper medium decoder' },
        firstAudioMs: spec.firstAudioMs,
        firstAudioMsNoSpeculation: noSpec.firstAudioMs,
        firstAudioMsTurnModel: turnEnd.firstAudioMs,
        computeMs: noSpec.computeMs,
        prefillTokens: spec.prefillTokens,
        listenerLagMsP95: spec.listenerLagMs.p95,
        listenerLagMsP95NoSpeculation: noSpec.listenerLagMs.p95,
        listenerLagMsMax: Math.max(spec.listenerLagMs.max, noSpec.listenerLagMs.max, turnEnd.listenerLagMs.max),
        sttWindowMs,
        sttVariantsMs,
        speculatedTurns: spec.speculatedTurns,
      };
    } finally {
      await Promise.all([...Object.values(shared), turnModel, ...setups.map((s) => s.engines.llm)].map((e) => e.dispose()));
    }
  }
  report.machine.loadAverageEnd = loadavg().map((v) => Math.round(v * 100) / 100);
  return report;
}

/** The table the closing note carries: one row per preset. */
export function realShapesTable(report: RealShapesReport): string {
  const rows = [
    '| preset | first audio p50/p95, speculation | without speculation | turn model + speculation | STT / LLM 1st sentence / TTS 1st sentence (p50) | prefill tokens per turn | listener lag p95 (max) | whisper full / fit window |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, p] of Object.entries(report.presets)) {
    const c = p.computeMs;
    rows.push(
      `| ${name} (${p.models.stt}, ${p.models.llm}) | ${p.firstAudioMs.p50} / ${p.firstAudioMs.p95} ms | ` +
        `${p.firstAudioMsNoSpeculation.p50} / ${p.firstAudioMsNoSpeculation.p95} ms | ${p.firstAudioMsTurnModel.p50} / ${p.firstAudioMsTurnModel.p95} ms | ` +
        `${c.stt} / ${c.llmToFirstSentence} / ${c.ttsFirstSentence} ms | ${p.prefillTokens.join(' ')} | ` +
        `${p.listenerLagMsP95} ms (${p.listenerLagMsMax} ms) | ${p.sttWindowMs.full} / ${p.sttWindowMs.fit} ms |`,
    );
  }
  rows.push('', '| whisper model | full 30 s window | fitted window | ratio |', '| --- | --- | --- | --- |');
  for (const [model, w] of Object.entries(report.sttWindowsMs)) {
    rows.push(`| ${model} | ${w.full} ms | ${w.fit} ms | ${(w.full / w.fit).toFixed(1)}x |`);
  }
  rows.push('', '| speculation check | end of turn to first audio p50/p95 | first audio with / without | saved (of 300 ms) |', '| --- | --- | --- | --- |');
  for (const c of report.speculationChecks) {
    rows.push(`| whisper ${c.stt} | ${c.afterEndpointMs.p50} / ${c.afterEndpointMs.p95} ms | ${c.firstAudioMs.p50} / ${c.firstAudioMsNoSpeculation.p50} ms | ${c.savingMs} ms |`);
  }
  const m = report.machine;
  rows.push('', `${m.cores} cores, ${m.memoryGb} GB, node ${m.node}; load average ${m.loadAverageStart.join(' ')} at start, ${m.loadAverageEnd.join(' ')} at the end`);
  return rows.join('\n');
}

export async function writeReport(path: string, report: RealShapesReport): Promise<void> {
  await writeFile(path, JSON.stringify(report, null, 1) + '\n');
}
