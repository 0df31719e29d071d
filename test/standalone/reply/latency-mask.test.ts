import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimeSink } from '../../../src/audio/realtime-sink.js';
import { makeEarcon } from '../../../src/reply/earcon.js';
import { FillerBank } from '../../../src/reply/filler-bank.js';
import { LatencyMask, type MaskRecord } from '../../../src/reply/latency-mask.js';
import { defaultLatencyMaskOptions, type LatencyMaskOptions } from '../../../src/reply/latency-mask-options.js';
import { loadPiperTts } from '../../../src/tts/piper-tts-engine.js';
import type { TtsEngine } from '../../../src/tts/tts-engine.js';
import { testModels } from '../../support/test-models.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let tts: TtsEngine;
let bank: FillerBank;
const PHRASES = ['One moment.', 'Let me check.', 'Just a second.'];

beforeAll(async () => {
  tts = await loadPiperTts({ voiceDir: testModels.voice, espeakDataDir: testModels.espeakData, threads: 1 });
  bank = new FillerBank(PHRASES, tts);
  await bank.prepare();
});
afterAll(async () => {
  await tts?.dispose();
});

/** A mask on a real-time sink whose every written block is kept, with its events. */
function masked(options: Partial<LatencyMaskOptions>, turn = new AbortController()) {
  const written: Float32Array[] = [];
  const sink = new RealtimeSink({ write: (b) => written.push(b.slice()) });
  const events: { action: 'start' | 'end'; record: MaskRecord }[] = [];
  const t0 = performance.now();
  const mask = new LatencyMask({ ...defaultLatencyMaskOptions, mode: 'phrase', ...options }, bank, sink, turn.signal, () => performance.now() - t0, {
    start: (record) => events.push({ action: 'start', record: { ...record } }),
    end: (record) => events.push({ action: 'end', record: { ...record } }),
  });
  const audio = () => Float32Array.from(written.flatMap((b) => [...b]));
  return { mask, events, audio, turn };
}

describe('LatencyMask', () => {
  it('plays a phrase when the reply is late, and fades it out when the reply is ready', async () => {
    const { mask, events, audio } = masked({ maskAfterMs: 100 });
    mask.arm(100);
    await sleep(500);
    expect(events.map((e) => e.action)).toEqual(['start']);
    expect(events[0].record).toMatchObject({ kind: 'phrase', trigger: 'late' });
    expect(PHRASES).toContain(events[0].record.text);
    await mask.replyReady();
    const record = (await mask.close())!;
    expect(record.cut).toBe(true);
    const full = tts.sampleRate * 1.4;
    const heard = audio();
    expect(heard.length).toBeLessThan(full);
    expect(record.playedMs).toBeCloseTo((heard.length / tts.sampleRate) * 1000, -1);
    // A clean cut: the level falls to silence over the fade instead of stopping on a step.
    const tail = heard.subarray(heard.length - Math.round(tts.sampleRate * 0.005));
    expect(Math.max(...tail.map(Math.abs))).toBeLessThan(0.02);
    const peak = Math.max(...heard.subarray(0, Math.round(tts.sampleRate * 0.3)).map(Math.abs));
    expect(peak).toBeGreaterThan(0.2);
    expect(events.map((e) => e.action)).toEqual(['start', 'end']);
  });

  it('plays nothing when the reply comes before maskAfterMs, or when it is off', async () => {
    const early = masked({});
    early.mask.arm(300);
    await sleep(50);
    await early.mask.replyReady();
    const off = masked({ mode: 'off' });
    off.mask.arm(0);
    off.mask.toolStarted();
    await sleep(450);
    expect(await early.mask.close()).toBeUndefined();
    expect(await off.mask.close()).toBeUndefined();
    expect([...early.events, ...off.events]).toEqual([]);
    expect(early.audio().length + off.audio().length).toBe(0);
  });

  it('plays for a tool that runs longer than toolMaskAfterMs, not for a quick one, and only once per turn', async () => {
    const quick = masked({ toolMaskAfterMs: 150 });
    quick.mask.arm(10_000);
    quick.mask.toolStarted();
    await sleep(20);
    quick.mask.toolEnded();
    await sleep(300);
    expect(quick.events).toEqual([]);
    await quick.mask.close();

    const slow = masked({ mode: 'earcon', toolMaskAfterMs: 150 });
    slow.mask.arm(10_000);
    slow.mask.toolStarted();
    await sleep(800);
    expect(slow.events.map((e) => [e.action, e.record.kind, e.record.trigger])).toEqual([
      ['start', 'earcon', 'tool'],
      ['end', 'earcon', 'tool'],
    ]);
    slow.mask.toolStarted();
    await sleep(300);
    expect(slow.events).toHaveLength(2);
    expect((await slow.mask.close())!.cut).toBe(false);
    expect(slow.audio().length).toBe(makeEarcon(tts.sampleRate).length);
  });

  it("stops at once when the turn is aborted", async () => {
    const { mask, audio, turn } = masked({});
    mask.arm(0);
    await sleep(200);
    turn.abort();
    const record = (await mask.close())!;
    expect(record.playedMs).toBeLessThan(600);
    expect(audio().length).toBeLessThan(tts.sampleRate * 0.6);
  });
});

describe('FillerBank', () => {
  it('never picks the same phrase twice in a row, and uses the earcon until the phrases are voiced', async () => {
    const fresh = new FillerBank(PHRASES, tts);
    expect(fresh.pick('phrase').kind).toBe('earcon');
    let previous: string | undefined;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const f = bank.pick('phrase');
      expect(f.kind).toBe('phrase');
      expect(f.text).not.toBe(previous);
      previous = f.text;
      seen.add(f.text!);
    }
    expect(seen.size).toBe(PHRASES.length);
  });
});

describe('makeEarcon', () => {
  it('is a short, soft chime that starts and ends in silence', () => {
    const e = makeEarcon(22050);
    expect(e.length / 22050).toBeGreaterThan(0.2);
    expect(e.length / 22050).toBeLessThan(0.5);
    const peak = Math.max(...e.map(Math.abs));
    expect(peak).toBeGreaterThan(0.05);
    expect(peak).toBeLessThanOrEqual(0.2);
    expect(Math.abs(e[0])).toBeLessThan(0.01);
    expect(Math.max(...e.subarray(e.length - 50).map(Math.abs))).toBeLessThan(0.01);
  });
});
