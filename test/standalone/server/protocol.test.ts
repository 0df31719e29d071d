import { describe, expect, it } from 'vitest';
import { decodePcmFrame, encodePcmFrame, PCM_FRAME_HEADER_BYTES } from '../../../src/server/pcm-frame.js';
import { MAX_TEXT_CHARS, parseClientMessage } from '../../../src/server/protocol.js';

describe('parseClientMessage', () => {
  it('accepts every client message the protocol defines', () => {
    const valid = [
      { type: 'start' },
      { type: 'start', mode: 'push-to-talk' },
      { type: 'stop' },
      { type: 'text', text: '  What time is it?  ' },
      { type: 'interrupt' },
      { type: 'ptt-down' },
      { type: 'ptt-up' },
      { type: 'config', mode: 'push-to-talk' },
      { type: 'config' },
    ];
    for (const m of valid) expect(parseClientMessage(JSON.stringify(m)), JSON.stringify(m)).toMatchObject({ ok: true });
    expect(parseClientMessage('{"type":"text","text":"  hi  "}')).toEqual({ ok: true, message: { type: 'text', text: 'hi' } });
  });

  it('says what is wrong with anything else, without throwing', () => {
    const cases: [string, RegExp][] = [
      ['', /not JSON/],
      ['{', /not JSON/],
      ['null', /.+/],
      ['[]', /.+/],
      ['{"type":"shout"}', /.+/],
      ['{"type":"text"}', /text/],
      ['{"type":"text","text":"   "}', /text/],
      [JSON.stringify({ type: 'text', text: 'x'.repeat(MAX_TEXT_CHARS + 1) }), /text/],
      ['{"type":"start","mode":"always"}', /mode/],
      ['{"type":"config","outputSampleRate":48000}', /.+/],
      ['{"type":"interrupt","now":true}', /.+/],
    ];
    for (const [text, reason] of cases) {
      const r = parseClientMessage(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.reason, text).toMatch(reason);
    }
  });
});

describe('PCM frames', () => {
  it('round-trip samples, rate and turn', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const frame = encodePcmFrame(samples, 22_050, 7);
    expect(frame.length).toBe(PCM_FRAME_HEADER_BYTES + samples.length * 2);
    const d = decodePcmFrame(frame);
    expect(d).toEqual({ ok: true, frame: { samples, sampleRate: 22_050, turn: 7 } });
  });

  it('refuses frames that are not mono s16le at a sensible rate', () => {
    const good = encodePcmFrame(new Int16Array(4), 16_000);
    const otherKind = Buffer.from(good);
    otherKind[0] = 2;
    for (const bad of [Buffer.alloc(0), good.subarray(0, 11), otherKind, encodePcmFrame(new Int16Array(4), 7999), encodePcmFrame(new Int16Array(4), 96_001), Buffer.concat([good, Buffer.from([1])])]) {
      expect(decodePcmFrame(bad).ok).toBe(false);
    }
    expect(decodePcmFrame(encodePcmFrame(new Int16Array(0), 16_000))).toMatchObject({ ok: true });
  });
});
