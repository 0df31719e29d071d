import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { createAgent } from '../../src/agent/create-agent.js';
import type { DuplexMode } from '../../src/turn/echo-gate-options.js';
import { defaultInterruptionOptions } from '../../src/turn/interruption-options.js';
import { medianAndWorst } from '../support/acoustic-timing.js';
import { BargeInRig, figures } from '../support/barge-in-rig.js';
import { pulseUnavailable } from '../support/pulse-server.js';
import { espeakSpeech, fliteSpeech } from '../support/speech-fixtures.js';
import { testModels } from '../support/test-models.js';

const unavailable = pulseUnavailable();
if (unavailable) console.log(`acoustic barge-in skipped: ${unavailable}`);

/** Runs per case; `npm run measure:barge-in` takes 5. The bound holds for the median of the runs. */
const RUNS = Number(process.env.EARSHOT_ACOUSTIC_RUNS ?? 3);
const BOUND_MS = 400;
/** Every run, however loaded the machine: a reply the user could not stop at all fails the case. */
const EVERY_RUN_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Barge-in as a person hears it: from the first sample of their speech on the microphone sink to the start
 * of at least 500 ms of silence on the speaker sink, on a real PulseAudio, with the whole live composition
 * (MicInput, the agent, SpeakerSink) and an endless reply.
 */
describe.skipIf(unavailable !== undefined)('barge-in measured at the speaker on a real sound server', () => {
  let rig: BargeInRig;
  const speech: Record<string, Float32Array> = {};

  beforeAll(async () => {
    rig = await BargeInRig.start();
    speech.continuous = await fliteSpeech('Hold on, I have another question about the tickets');
    speech['"Stop."'] = await espeakSpeech('Stop.');
    speech['"Wait."'] = await espeakSpeech('Wait.');
  });

  afterAll(async () => {
    await rig?.stop();
  });

  async function agentFor(duplex: DuplexMode): Promise<Agent> {
    return createAgent({
      models: { stt: testModels.stt, llm: testModels.llmEndless, voice: testModels.voice, espeakData: testModels.espeakData },
      sink: rig.sink,
      gpu: 'off',
      maxReplyTokens: 4000,
      interruption: { duplex },
    });
  }

  const duplexModes: DuplexMode[] = ['full', defaultInterruptionOptions.duplex];
  const cases = ['continuous', '"Stop."', '"Wait."'];
  for (const duplex of duplexModes) {
    for (const name of cases) {
      it(`${name} over a reply (${duplex}): the speaker is silent within ${BOUND_MS} ms of the first syllable`, async () => {
        const agent = await agentFor(duplex);
        const disconnect = rig.connect(agent);
        let runs: number[] = [];
        try {
          runs = await figures(RUNS, async () => {
            agent.start();
            const reply = agent.sendText('Tell me everything.');
            reply.catch(() => {});
            await rig.untilSpeaking();
            await sleep(1500);
            const ms = await rig.onsetToSilence(speech[name]);
            // The interruption becomes the next turn, with its own endless reply: end it before the next run.
            await agent.stop();
            await sleep(300);
            return ms;
          });
        } finally {
          disconnect();
          await agent.close();
        }
        const { median, worst } = medianAndWorst(runs);
        console.log(
          `[barge-in] ${name} (${duplex}): onset to silence median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms ` +
            `over ${runs.length} runs [${runs.map((f) => f.toFixed(0)).join(', ')}]`,
        );
        expect(runs).toHaveLength(RUNS);
        expect(median).toBeLessThanOrEqual(BOUND_MS);
        // The median bears a slow run on a busy machine; none may miss the interruption altogether.
        expect(worst).toBeLessThanOrEqual(EVERY_RUN_MS);
      }, 60_000 + RUNS * 15_000);
    }
  }
});
