import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import type { AgentEvents, TurnResult } from '../../src/agent/events.js';
import { MicInput } from '../../src/audio/devices/mic-input.js';
import { float32ToInt16 } from '../../src/audio/pcm.js';
import type { SpeakerSink } from '../../src/audio/devices/speaker-sink.js';
import type { DuplexMode } from '../../src/turn/echo-gate-options.js';
import { playInto, pulseUnavailable, startPulseServer, type PulseServer } from '../support/pulse-server.js';
import { fliteSpeech } from '../support/speech-fixtures.js';
import { SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';

const unavailable = pulseUnavailable();
if (unavailable) console.log(`echo loopback skipped: ${unavailable}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open speakers on a real sound server: earshot speaks into sink B, and a loopback module carries B's sound into
 * sink A — whose monitor is earshot's microphone — as a loudspeaker carries its voice into a kiosk's microphone.
 */
describe.skipIf(unavailable !== undefined)('its own voice through a real sound server (open-speaker echo)', () => {
  let pulse: PulseServer;
  let mic: MicInput;
  let sink: SpeakerSink;
  let otherVoice: Int16Array;

  beforeAll(async () => {
    pulse = await startPulseServer({ sinks: ['roomA', 'spkB'] });
    Object.assign(process.env, pulse.env);
    // The room: B's sound reaches A 60 ms later at full level, the hardest case for the gate.
    execFileSync('pactl', ['load-module', 'module-loopback', 'source=spkB.monitor', 'sink=roomA', 'latency_msec=60'], {
      env: { ...process.env, ...pulse.env },
    });
    otherVoice = float32ToInt16(await fliteSpeech('Wait, stop, tell me about Berlin instead.', 'kal'));
    const { openSpeakerSink } = await import('../../src/audio/devices/speaker-sink.js');
    sink = await openSpeakerSink({ device: 'pulse:spkB' });
    mic = new MicInput({ device: 'pulse:roomA.monitor' });
    await mic.start();
  });

  afterAll(async () => {
    await mic?.stop();
    await sink?.close();
    await pulse?.stop();
  });

  async function converse(duplex: DuplexMode, interruptAfterMs?: number) {
    const agent: Agent = await createAgent({
      models: { stt: testModels.stt, llm: testModels.llmEndless, voice: testModels.voice, espeakData: testModels.espeakData },
      sink,
      gpu: 'off',
      maxReplyTokens: 16,
      interruption: { duplex },
    });
    const bargeIns: AgentEvents['barge-in'][] = [];
    const turns: TurnResult[] = [];
    agent.on('barge-in', (e) => bargeIns.push(e));
    agent.on('turn-end', (t) => turns.push(t));
    const feed = ({ samples, sampleRate }: { samples: Int16Array; sampleRate: number }) => agent.pushAudio(samples, sampleRate);
    mic.on('data', feed);
    agent.start();
    let firstAudio = 0;
    agent.on('audio', () => (firstAudio ||= performance.now()));
    const first = agent.sendText('Tell me about Paris.');
    if (interruptAfterMs !== undefined) {
      while (!firstAudio) await sleep(10);
      await sleep(interruptAfterMs);
      await playInto(pulse, 'roomA', otherVoice, 16_000);
    }
    const result = await first;
    if (interruptAfterMs !== undefined) while (turns.length < 2) await sleep(20);
    // With full duplex and open speakers the agent would answer its own echo forever: stop after the first turn.
    if (duplex !== 'full') await agent.flush();
    console.log(`[echo] ${duplex}: barge-in ${JSON.stringify(bargeIns.map((b) => `${b.action} at +${Math.round(b.at - firstAudio)} ms`))}`);
    mic.off('data', feed);
    await agent.close();
    return { result, bargeIns, turns };
  }

  it('gate: its own reply coming back at full level never interrupts it', async () => {
    const { result, bargeIns } = await converse('gate');
    expect(bargeIns).toEqual([]);
    expect(result.interrupted).toBe(false);
    expect(result.spoken).toBe(result.reply);
  });

  it('full: the same echo does barge in, so the gate is what holds it back', async () => {
    const { bargeIns } = await converse('full');
    expect(bargeIns.map((b) => b.action)).toContain('pause');
  });

  it('gate: a different voice at normal level over the echo still interrupts, and is the next turn', async () => {
    const { result, bargeIns, turns } = await converse('gate', 800);
    expect(bargeIns.map((b) => b.action)).toContain('cut');
    expect(result.interrupted).toBe(true);
    expect(turns[1].transcript).toBe(SCRIPTED_TRANSCRIPT);
  });
});
