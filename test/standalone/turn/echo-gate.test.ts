import { beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../../../src/audio/pcm.js';
import { EchoGate } from '../../../src/turn/echo-gate.js';
import { fliteSpeech } from '../../support/speech-fixtures.js';

const RATE = 16_000;
const FRAME = 512;

/** Reports `played` to the gate in 20 ms blocks from t0, as a sink would, up to sample `until`. */
function play(gate: EchoGate, played: Float32Array, t0: number, from: number, until: number): void {
  const block = 320;
  for (let i = from; i < Math.min(until, played.length); i += block) {
    gate.addPlayed(played.subarray(i, i + block), t0 + (i / RATE) * 1000);
  }
}

/** The microphone frame ending at sample `end`: the played audio `delay` samples late at `gain`, plus `other`. */
function micFrame(played: Float32Array, end: number, delay: number, gain: number, other?: Float32Array): Float32Array {
  const f = new Float32Array(FRAME);
  for (let i = 0; i < FRAME; i++) {
    const k = end - FRAME + i - delay;
    f[i] = (k >= 0 && k < played.length ? gain * played[k] : 0) + (other ? other[end - FRAME + i] ?? 0 : 0);
  }
  return f;
}

/**
 * Plays `voice` from t0 = 1000 ms and hears it back 60 ms later at half its level, one microphone frame at a
 * time, frame n arriving `lateMs(n)` after it was captured. The gate hears every frame (it counts the
 * microphone's samples); only frames with echo are counted: how many, how many it called the user, and the
 * residual's share of each.
 */
function hearEcho(gate: EchoGate, voice: Float32Array, lateMs: (frame: number) => number) {
  const t0 = 1000;
  const delay = Math.round(0.06 * RATE);
  let reported = 0;
  let echoFrames = 0;
  let userFlags = 0;
  const residualRatios: number[] = [];
  for (let end = 8000, n = 0; end < voice.length; end += FRAME, n++) {
    play(gate, voice, t0, reported, end);
    reported = Math.max(reported, Math.ceil(end / 320) * 320);
    const frame = micFrame(voice, end, delay, 0.5);
    const { residual, userLikely } = gate.cancel(frame, t0 + (end / RATE) * 1000 + lateMs(n));
    if (rms(frame) < 0.01) continue;
    residualRatios.push(rms(residual) / rms(frame));
    echoFrames++;
    if (userLikely) userFlags++;
  }
  return { echoFrames, userFlags, residualRatios };
}

describe('EchoGate', () => {
  let agentVoice: Float32Array;
  let person: Float32Array;
  beforeAll(async () => {
    agentVoice = await fliteSpeech('Paris is the capital of France. It is known for the Eiffel Tower.');
    person = await fliteSpeech('Wait, stop, tell me about Berlin instead, please.', 'kal');
  });

  it('finds the playback-to-microphone delay and removes the echo', () => {
    const gate = new EchoGate();
    const { echoFrames, userFlags, residualRatios } = hearEcho(gate, agentVoice, () => 0);
    expect(echoFrames).toBeGreaterThan(50);
    expect(gate.delayMs).toBeCloseTo(60, 0);
    residualRatios.sort((a, b) => a - b);
    expect(residualRatios[Math.floor(residualRatios.length / 2)]).toBeLessThan(0.05);
    expect(userFlags / echoFrames).toBeLessThan(0.05);
  });

  it('keeps a person speaking over the echo', () => {
    const gate = new EchoGate();
    const t0 = 1000;
    const delay = Math.round(0.06 * RATE);
    let reported = 0;
    let voiced = 0;
    let kept = 0;
    for (let end = 8000; end < Math.min(agentVoice.length, person.length); end += FRAME) {
      play(gate, agentVoice, t0, reported, end);
      reported = Math.max(reported, Math.ceil(end / 320) * 320);
      const personFrame = person.subarray(end - FRAME, end);
      const frame = micFrame(agentVoice, end, delay, 0.5, person);
      const { userLikely } = gate.cancel(frame, t0 + (end / RATE) * 1000);
      if (rms(personFrame) < 0.03) continue;
      voiced++;
      if (userLikely) kept++;
    }
    expect(voiced).toBeGreaterThan(20);
    expect(kept / voiced).toBeGreaterThan(0.8);
  });

  it('places frames by their sample count: frames delivered late and in bursts still line up with the echo', () => {
    const gate = new EchoGate();
    // A busy event loop: every fourth frame arrives on time, the three before it up to 90 ms late.
    const { echoFrames, userFlags } = hearEcho(gate, agentVoice, (frame) => [90, 60, 30, 0][frame % 4]);
    expect(echoFrames).toBeGreaterThan(50);
    expect(userFlags / echoFrames).toBeLessThan(0.05);
  });

  it('passes the microphone through untouched when nothing was played', () => {
    const gate = new EchoGate();
    const frame = person.slice(8000, 8000 + FRAME);
    const { residual, userLikely } = gate.cancel(frame, 5000);
    expect(userLikely).toBe(true);
    expect(residual).toEqual(frame);
    expect(gate.isActive(5000, FRAME)).toBe(false);
  });
});
