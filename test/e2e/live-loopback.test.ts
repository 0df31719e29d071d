import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import type { TurnMetrics } from '../../src/agent/turn-metrics.js';
import { MicInput } from '../../src/audio/devices/mic-input.js';
import { float32ToInt16 } from '../../src/audio/pcm.js';
import { decodeWav } from '../../src/audio/wav.js';
import type { SpeakerSink } from '../../src/audio/devices/speaker-sink.js';
import { processAlive } from '../../src/util/process-alive.js';
import { startCli } from '../support/run-cli.js';
import {
  playInto,
  pulseUnavailable,
  recordMonitor,
  soundTimes,
  startPulseServer,
  type MonitorRecorder,
  type PulseServer,
} from '../support/pulse-server.js';
import { fliteSpeech } from '../support/speech-fixtures.js';
import { modelFlags, SCRIPTED_REPLY, SCRIPTED_TRANSCRIPT, testModels } from '../support/test-models.js';
import { children } from '../support/child-processes.js';

const unavailable = pulseUnavailable();
if (unavailable) console.log(`live loopback skipped: ${unavailable}`);

const ENDPOINT_SILENCE_MS = 500;
const models = (llm: string) => ({ stt: testModels.stt, llm, voice: testModels.voice, espeakData: testModels.espeakData });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


const childCommands = (pid: number) => children(pid).map((c) => c.command);

/** Waits until `check` returns a value, polling; fails after `timeoutMs`. */
async function until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe.skipIf(unavailable !== undefined)('live conversation on a real PulseAudio (null sinks A and B)', () => {
  let pulse: PulseServer;
  let question: Int16Array;
  let mic: MicInput;
  let sink: SpeakerSink;
  let recA: MonitorRecorder;
  let recB: MonitorRecorder;

  beforeAll(async () => {
    pulse = await startPulseServer({ sinks: ['earA', 'earB'] });
    // This process talks to the server too (speaker loads alsa-lib's pulse plugin in process): it must see
    // the server before alsa-lib reads its configuration for the first time.
    Object.assign(process.env, pulse.env);
    question = float32ToInt16(await fliteSpeech(SCRIPTED_TRANSCRIPT));
    recA = recordMonitor(pulse, 'earA');
    recB = recordMonitor(pulse, 'earB');
    const { openSpeakerSink } = await import('../../src/audio/devices/speaker-sink.js');
    sink = await openSpeakerSink({ device: 'pulse:earB' });
    sink.on('error', ({ error }) => {
      throw error;
    });
    mic = new MicInput({ device: 'pulse:earA.monitor' });
    await mic.start();
    await until(() => recA.blocks.length > 0 && recB.blocks.length > 0, 5000, 'the monitor recorders');
  });

  afterAll(async () => {
    await mic?.stop();
    await sink?.close();
    await recA?.stop();
    await recB?.stop();
    await pulse?.stop();
  });

  function connect(agent: Agent): () => void {
    const feed = ({ samples, sampleRate }: { samples: Int16Array; sampleRate: number }) => agent.pushAudio(samples, sampleRate);
    mic.on('data', feed);
    return () => mic.off('data', feed);
  }

  it('hears a spoken question through sink A, answers into sink B, and the audio path adds little', async () => {
    const agent = await createAgent({ models: models(testModels.llm), sink, gpu: 'off' });
    const disconnect = connect(agent);
    const transcripts: string[] = [];
    const metrics: TurnMetrics[] = [];
    let firstAudioEventAt = 0;
    agent.on('audio', () => (firstAudioEventAt ||= performance.now()));
    agent.on('transcript', ({ text }) => transcripts.push(text));
    agent.on('metrics', (m) => metrics.push(m));
    agent.on('error', ({ error }) => {
      throw error;
    });
    agent.start();
    await sleep(300);
    recA.blocks.length = 0;
    recB.blocks.length = 0;

    await playInto(pulse, 'earA', question, 16_000);
    await until(() => metrics.length > 0, 20_000, 'the turn to end');
    disconnect();
    await agent.close();

    expect(transcripts).toEqual([SCRIPTED_TRANSCRIPT]);
    expect(metrics[0].reply).toBe(SCRIPTED_REPLY);
    const questionEnd = soundTimes(recA).lastAt!;
    const reply = soundTimes(recB);
    expect(reply.firstAt, 'reply audio on sink B').toBeDefined();
    expect(reply.firstAt!).toBeGreaterThan(questionEnd);
    // The whole reply arrived: both sentences, about 6 s of the generated voice.
    expect(reply.lastAt! - reply.firstAt!).toBeGreaterThan(4000);

    const m = metrics[0];
    const voiceToVoice = reply.firstAt! - questionEnd;
    const compute = m.compute.stt + (m.compute.llmToFirstSentence ?? 0) + (m.compute.ttsFirstSentence ?? 0);
    const audioPath = voiceToVoice - compute - ENDPOINT_SILENCE_MS;
    // Where the audio path's time goes: the output (agent hands over audio -> sound on B), the endpointer's own
    // lag and the pipeline's overhead (from the agent's metrics), and the rest: microphone capture plus where
    // the VAD puts the end of speech relative to the acoustic end.
    const output = reply.firstAt! - firstAudioEventAt;
    const endpointerLag = m.ms.endpoint - ENDPOINT_SILENCE_MS;
    const rest = audioPath - output - endpointerLag - (m.compute.overhead ?? 0);
    console.log(
      `[loopback] acoustic voice-to-voice ${voiceToVoice.toFixed(0)} ms = endpoint silence ${ENDPOINT_SILENCE_MS} + ` +
        `compute ${compute.toFixed(0)} (stt ${m.compute.stt}, llm ${m.compute.llmToFirstSentence}, tts ${m.compute.ttsFirstSentence}) + ` +
        `audio path ${audioPath.toFixed(0)} ms [output ${output.toFixed(0)}, endpointer lag ${endpointerLag.toFixed(0)}, ` +
        `pipeline ${m.compute.overhead}, mic capture + VAD end offset ${rest.toFixed(0)}] (mic via ${mic.toolName} at ${mic.sampleRate} Hz)`,
    );
    // Generous bound for a loaded CI machine; the figure itself is what the log line reports.
    expect(audioPath).toBeLessThan(400);
  });

  it('interrupt() silences sink B within 100 ms while the endless model keeps talking', async () => {
    const agent = await createAgent({ models: models(testModels.llmEndless), sink, gpu: 'off', maxReplyTokens: 4000 });
    agent.on('error', ({ error }) => {
      throw error;
    });
    agent.start();
    recB.blocks.length = 0;
    const reply = agent.sendText('Tell me everything.');
    await until(() => soundTimes(recB).firstAt, 15_000, 'reply audio on sink B');
    await sleep(1200);
    const interruptAt = performance.now();
    agent.interrupt();
    const result = await reply;
    const returnedAfter = performance.now() - interruptAt;
    await sleep(600);
    await agent.close();

    const silentAfter = soundTimes(recB).lastAt! - interruptAt;
    console.log(
      `[loopback] interrupt to silence on sink B: ${Math.max(0, silentAfter).toFixed(0)} ms ` +
        `(last reply sound ${silentAfter.toFixed(1)} ms after interrupt(); the turn settled after ${returnedAfter.toFixed(0)} ms)`,
    );
    expect(result.interrupted).toBe(true);
    expect(result.spoken.length).toBeGreaterThan(0);
    expect(silentAfter).toBeLessThanOrEqual(100);
  });

  it('earshot start (the CLI) answers under the same server and exits cleanly on Ctrl-C with no child left', async () => {
    let recorders: number[] = [];
    const cli = startCli(
      [
        '--json', '--log-content',
        '--input-device', 'pulse:earA.monitor', '--output-device', 'pulse:earB',
        ...modelFlags(),
      ],
      { guard: true, env: pulse.env },
    );
    const events = () =>
      cli
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; text?: string; reply?: string });
    try {
      await until(() => events().some((e) => e.event === 'ready'), 30_000, `the CLI to be ready (stderr: ${cli.stderr()})`);
      recorders = children(cli.child.pid!).filter((c) => c.command === 'arecord').map((c) => c.pid);
      expect(recorders).toHaveLength(1);
      recB.blocks.length = 0;
      await playInto(pulse, 'earA', question, 16_000);
      await until(() => events().some((e) => e.event === 'audio'), 20_000, 'the CLI to speak');
      expect(events().find((e) => e.event === 'transcript')?.text).toBe(SCRIPTED_TRANSCRIPT);
      await until(() => soundTimes(recB).firstAt, 5000, 'the CLI reply on sink B');
    } finally {
      cli.child.kill('SIGINT');
    }
    const { code, signal, stderr } = await cli.exited;
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(events().at(-1)?.event).toBe('closed');
    // Ctrl-C ends with the session's numbers as the last event before 'closed'.
    expect(events().at(-2)).toMatchObject({ event: 'session-metrics', turns: 1, interruptions: 0 });
    // The CLI's own recorder must be gone (other programs on this machine may run recorders of their own).
    expect(recorders.filter(processAlive)).toEqual([]);
  });

  it('earshot start --output FILE --quiet: prints only the conversation and writes the replies to a WAV on Ctrl-C', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'earshot-live-')), 'replies.wav');
    const cli = startCli(
      [
        // Not a terminal: the conversation is printed only when asked for.
        'start', '--quiet', '--log-content', '--output', out,
        '--input-device', 'pulse:earA.monitor',
        ...modelFlags(),
      ],
      { env: pulse.env },
    );
    try {
      // --quiet prints nothing until someone speaks: wait for the recorder to run, then for the models.
      await until(() => childCommands(cli.child.pid!).includes('arecord'), 30_000, 'the CLI microphone');
      await sleep(3000);
      await playInto(pulse, 'earA', question, 16_000);
      // The reply line ends with its turn: a reply prepared in the pause prints whole before its last sentence plays.
      await until(() => cli.stdout().includes(`${SCRIPTED_REPLY}\n`), 20_000, `the reply (stderr: ${cli.stderr()})`);
    } finally {
      cli.child.kill('SIGINT');
    }
    const { code, stdout, stderr } = await cli.exited;
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([`you: ${SCRIPTED_TRANSCRIPT}`, `earshot: ${SCRIPTED_REPLY}`]);
    const wav = decodeWav(readFileSync(out));
    expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(4);
  });
});
