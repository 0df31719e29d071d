/**
 * Writes a tiny voice that follows the Piper/VITS ONNX contract sherpa-onnx expects, so the real TTS runtime can
 * be tested without downloading a voice. It does not speak words: every phoneme id becomes a short, steady vowel-like
 * sound (whole pitch periods per frame, so repeats join without clicks) plus a token-dependent texture from a MatMul/Tanh
 * branch, which keeps real arithmetic in the graph.
 *
 * Length contract: each input id yields `TEST_VOICE_FRAMES_PER_ID * lengthScale` (rounded, at least 1) frames of
 * `TEST_VOICE_FRAME_SAMPLES` samples, so at the default speed every id is exactly `TEST_VOICE_SAMPLES_PER_ID` samples.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeOnnxModel, OnnxType, type OnnxInitializer, type OnnxNode } from './onnx-writer.js';
import { createSeededRandom } from './seeded-random.js';

/** Samples in one frame of generated audio. */
export const TEST_VOICE_FRAME_SAMPLES = 256;
/** Frames per input id at length_scale 1. */
export const TEST_VOICE_FRAMES_PER_ID = 4;
/** Samples per input id at the voice's own speed. */
export const TEST_VOICE_SAMPLES_PER_ID = TEST_VOICE_FRAME_SAMPLES * TEST_VOICE_FRAMES_PER_ID;

const EMBED_DIM = 16;

/**
 * Piper's symbol set for espeak-ng English and more: pad, begin, end, space, punctuation, ASCII letters, the IPA
 * letters and marks espeak-ng emits. Ids are line numbers in this list.
 */
const SYMBOLS: readonly string[] = [
  '_', '^', '$', ' ', '!', "'", '(', ')', ',', '-', '.', ':', ';', '?',
  ...'abcdefghijklmnopqrstuvwxyz',
  ...'æçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ',
  'ʰ', 'ʼ', '↓', '↑', '→', '↗', '↘', '\u0303', '\u0329', '\u032a', '\u0361', '\u0327', '\u031a',
  ...'0123456789',
  '"', '«', '»', '¡', '¿', '…', '—', '–',
];

export interface TestVoiceOptions {
  /** Folder to write `<name>.onnx` and `tokens.txt` into; created if missing. */
  dir: string;
  /** Output sample rate written to the metadata. Default: 22050. */
  sampleRate?: number;
  /** File stem of the model. Default: 'en_US-earshot_test-low'. */
  name?: string;
  /** Number of speakers; above 1 the graph takes a `sid` input that scales each speaker's loudness. Default: 1. */
  speakers?: number;
  /** Leave these metadata keys out (to test how loaders treat a broken voice). Default: none. */
  omitMetadata?: readonly string[];
}

export interface TestVoice {
  dir: string;
  modelPath: string;
  tokensPath: string;
}

/**
 * One frame per symbol, shaped like a voiced sound so that a voice activity detector hears speech in it (the
 * echo and barge-in tests depend on that): harmonics of a 172 Hz pitch (two whole periods per 256-sample frame
 * at 22.05 kHz, so repeated frames join without clicks) weighted by three formant resonances that differ per
 * symbol, as vowels differ. Pad and word breaks get a quiet breath of the same form.
 */
function frameTable(vocab: number): Float32Array {
  const F = TEST_VOICE_FRAME_SAMPLES;
  const rate = 22_050;
  const periods = 2;
  const f0 = (periods * rate) / F;
  const table = new Float32Array(vocab * F);
  for (let id = 0; id < vocab; id++) {
    const formants = [300 + ((id * 37) % 500), 900 + ((id * 113) % 1400), 2400 + ((id * 71) % 700)];
    const quiet = SYMBOLS[id] === '_' || SYMBOLS[id] === ' ';
    const frame = new Float64Array(F);
    for (let h = 1; h * f0 < 4000; h++) {
      const f = h * f0;
      const weight = formants.reduce((a, fc, i) => a + (1 / (i + 1)) / (1 + ((f - fc) / 90) ** 2), 0);
      for (let s = 0; s < F; s++) frame[s] += weight * Math.sin((2 * Math.PI * h * periods * s) / F + h * id);
    }
    let peak = 0;
    for (const v of frame) peak = Math.max(peak, Math.abs(v));
    const amp = (quiet ? 0.05 : 0.3) / (peak || 1);
    for (let s = 0; s < F; s++) table[id * F + s] = amp * frame[s];
  }
  return table;
}

function buildGraph(vocab: number, speakers: number): { nodes: OnnxNode[]; initializers: OnnxInitializer[] } {
  const rand = createSeededRandom(0x5eed + vocab);
  const F = TEST_VOICE_FRAME_SAMPLES;
  const embedding = Float32Array.from({ length: vocab * EMBED_DIM }, () => rand() * 2 - 1);
  const projection = Float32Array.from({ length: EMBED_DIM * F }, () => (rand() * 2 - 1) * 0.8);
  const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

  const initializers: OnnxInitializer[] = [
    { name: 'tone_table', dims: [vocab, F], data: frameTable(vocab) },
    { name: 'embedding', dims: [vocab, EMBED_DIM], data: embedding },
    { name: 'projection', dims: [EMBED_DIM, F], data: projection },
    { name: 'texture_gain', dims: [], data: Float32Array.of(0.08) },
    { name: 'frames_per_id', dims: [], data: Float32Array.of(TEST_VOICE_FRAMES_PER_ID) },
    { name: 'one_frame', dims: [], data: Float32Array.of(1) },
    { name: 'noise_index', dims: [], data: i64(0) },
    { name: 'length_index', dims: [], data: i64(1) },
    { name: 'flat', dims: [1], data: i64(-1) },
    { name: 'one_dim', dims: [1], data: i64(1) },
    { name: 'frame_dim', dims: [1], data: i64(F) },
    { name: 'token_frame_shape', dims: [3], data: i64(0, 1, F) },
    { name: 'audio_shape', dims: [3], data: i64(1, 1, -1) },
  ];

  const nodes: OnnxNode[] = [
    { op: 'Reshape', inputs: ['input', 'flat'], outputs: ['ids'] },
    { op: 'Gather', inputs: ['tone_table', 'ids'], outputs: ['tones'], attributes: { axis: 0 } },
    { op: 'Gather', inputs: ['embedding', 'ids'], outputs: ['embedded'], attributes: { axis: 0 } },
    { op: 'MatMul', inputs: ['embedded', 'projection'], outputs: ['projected'] },
    { op: 'Tanh', inputs: ['projected'], outputs: ['texture'] },
    { op: 'Gather', inputs: ['scales', 'noise_index'], outputs: ['noise_scale'], attributes: { axis: 0 } },
    { op: 'Mul', inputs: ['texture', 'texture_gain'], outputs: ['texture_quiet'] },
    { op: 'Mul', inputs: ['texture_quiet', 'noise_scale'], outputs: ['texture_scaled'] },
    { op: 'Add', inputs: ['tones', 'texture_scaled'], outputs: ['token_frames'] },
    // Frames per id follow length_scale (scales[1]), so speed changes the audio length as in a real voice.
    { op: 'Gather', inputs: ['scales', 'length_index'], outputs: ['length_scale'], attributes: { axis: 0 } },
    { op: 'Mul', inputs: ['length_scale', 'frames_per_id'], outputs: ['repeat_raw'] },
    { op: 'Round', inputs: ['repeat_raw'], outputs: ['repeat_rounded'] },
    { op: 'Max', inputs: ['repeat_rounded', 'one_frame'], outputs: ['repeat_float'] },
    { op: 'Cast', inputs: ['repeat_float'], outputs: ['repeat'], attributes: { to: OnnxType.INT64 } },
    { op: 'Reshape', inputs: ['repeat', 'one_dim'], outputs: ['repeat_dim'] },
    { op: 'Shape', inputs: ['ids'], outputs: ['token_count'] },
    { op: 'Concat', inputs: ['token_count', 'repeat_dim', 'frame_dim'], outputs: ['expanded_shape'], attributes: { axis: 0 } },
    { op: 'Reshape', inputs: ['token_frames', 'token_frame_shape'], outputs: ['token_frames_3d'] },
    { op: 'Expand', inputs: ['token_frames_3d', 'expanded_shape'], outputs: ['expanded'] },
  ];

  if (speakers > 1) {
    initializers.push({
      name: 'speaker_gain',
      dims: [speakers],
      data: Float32Array.from({ length: speakers }, (_, s) => 1 - (0.5 * s) / speakers),
    });
    nodes.push(
      { op: 'Reshape', inputs: ['expanded', 'audio_shape'], outputs: ['audio_raw'] },
      { op: 'Gather', inputs: ['speaker_gain', 'sid'], outputs: ['gain'], attributes: { axis: 0 } },
      { op: 'Mul', inputs: ['audio_raw', 'gain'], outputs: ['output'] },
    );
  } else {
    nodes.push({ op: 'Reshape', inputs: ['expanded', 'audio_shape'], outputs: ['output'] });
  }
  return { nodes, initializers };
}

/** The ONNX bytes of a test voice (exported for tests that need to damage them). */
export function encodeTestVoice(options: Omit<TestVoiceOptions, 'dir' | 'name'> = {}): Uint8Array {
  const sampleRate = options.sampleRate ?? 22050;
  const speakers = options.speakers ?? 1;
  const { nodes, initializers } = buildGraph(SYMBOLS.length, speakers);
  const metadata: Record<string, string> = {
    model_type: 'vits',
    comment: 'piper',
    language: 'English',
    voice: 'en-us',
    has_espeak: '1',
    n_speakers: String(speakers),
    sample_rate: String(sampleRate),
    add_blank: '1',
  };
  for (const key of options.omitMetadata ?? []) delete metadata[key];
  return encodeOnnxModel({
    graphName: 'earshot-test-voice',
    inputs: [
      { name: 'input', elemType: OnnxType.INT64, shape: [1, 'phonemes'] },
      { name: 'input_lengths', elemType: OnnxType.INT64, shape: [1] },
      { name: 'scales', elemType: OnnxType.FLOAT, shape: [3] },
      ...(speakers > 1 ? [{ name: 'sid', elemType: OnnxType.INT64, shape: [1] }] : []),
    ],
    outputs: [{ name: 'output', elemType: OnnxType.FLOAT, shape: [1, 1, 'samples'] }],
    nodes,
    initializers,
    metadata,
  });
}

/** tokens.txt in sherpa-onnx's Piper form: `symbol id` per line (the space symbol is written as-is). */
export function testVoiceTokens(): string {
  return SYMBOLS.map((s, id) => `${s} ${id}\n`).join('');
}

/** Writes `<name>.onnx` and `tokens.txt` into `dir` (a sherpa-onnx vits-piper layout without espeak-ng-data). */
export async function writeTestVoice(options: TestVoiceOptions): Promise<TestVoice> {
  const name = options.name ?? 'en_US-earshot_test-low';
  await mkdir(options.dir, { recursive: true });
  const modelPath = path.join(options.dir, `${name}.onnx`);
  const tokensPath = path.join(options.dir, 'tokens.txt');
  await writeFile(modelPath, encodeTestVoice(options));
  await writeFile(tokensPath, testVoiceTokens());
  return { dir: options.dir, modelPath, tokensPath };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? path.join('.cache', 'voices', 'en_US-earshot_test-low');
  const voice = await writeTestVoice({ dir });
  console.log(`wrote ${voice.modelPath} and ${voice.tokensPath}`);
}
