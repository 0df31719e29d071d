/** Each note of the chime: frequency (Hz), start (ms). Two rising notes read as "working on it", not as an alert. */
const NOTES: readonly (readonly [number, number])[] = [
  [659.25, 0],
  [880, 130],
];
const NOTE_MS = 190;
const ATTACK_MS = 8;
/** Decay time constant of each note, ms. */
const DECAY_MS = 55;
/** Peak level: soft, well under speech. */
const PEAK = 0.18;

/**
 * A soft two-note chime made in code (no audio asset): sine notes with a little second harmonic, a short
 * attack and an exponential decay that reaches silence by the end.
 */
export function makeEarcon(sampleRate: number): Float32Array {
  const total = Math.round(((NOTES.at(-1)![1] + NOTE_MS) * sampleRate) / 1000);
  const out = new Float32Array(total);
  for (const [freq, startMs] of NOTES) {
    const start = Math.round((startMs * sampleRate) / 1000);
    const length = Math.round((NOTE_MS * sampleRate) / 1000);
    for (let i = 0; i < length && start + i < total; i++) {
      const t = i / sampleRate;
      const ms = t * 1000;
      const attack = Math.min(1, ms / ATTACK_MS);
      // The last 20% ramps to zero so the note never ends on a step.
      const tail = Math.min(1, (length - i) / (length * 0.2));
      const envelope = attack * Math.exp(-ms / DECAY_MS) * tail;
      const wave = Math.sin(2 * Math.PI * freq * t) + 0.25 * Math.sin(4 * Math.PI * freq * t);
      out[start + i] += (PEAK / 1.25) * envelope * wave;
    }
  }
  return out;
}
