import { Command, Option } from 'commander';
import type { Agent } from '../agent/agent.js';
import { createAgent } from '../agent/create-agent.js';
import type { AudioSink } from '../audio/audio-sink.js';
import { deviceSampleRate } from '../audio/devices/device-list.js';
import { MicInput } from '../audio/devices/mic-input.js';
import { checkOutputDeviceFlag } from '../audio/devices/platform-devices.js';
import type { SpeakerSink } from '../audio/devices/speaker-sink.js';
import { WavCollectorSink } from '../audio/wav-collector-sink.js';
import { writeWav } from '../audio/wav.js';
import { EarshotError, isEarshotError } from '../errors.js';
import type { DuplexMode } from '../turn/echo-gate-options.js';
import { addModelFlags, agentOptionsFromFlags, type ModelFlags } from './model-flags.js';
import { TerminalView, type ViewMode } from './terminal-view.js';
import { exitAfterFatal, fatalLine } from './fatal-exit.js';
import { addHealthFlag, ServiceHooks, type HealthFlags } from './service-hooks.js';
import { addToolAndMaskFlags, toolAndMaskOptions, type ToolAndMaskFlags } from './tool-and-mask-flags.js';
import { addIdleResetFlags, addLogContentFlag, idleResetOptions, showsContent, type PrivacyFlags } from './privacy-flags.js';

interface StartFlags extends ModelFlags, ToolAndMaskFlags, PrivacyFlags, HealthFlags {
  inputDevice?: string;
  outputDevice?: string;
  output?: string;
  quiet?: boolean;
  json?: boolean;
  duplex: DuplexMode;
}


export function startCommand(): Command {
  const cmd = new Command('start')
    .description('talk with earshot through the microphone and the speaker until Ctrl-C (the default command)')
    .option('--input-device <id>', 'microphone to listen to (see earshot devices; default: the system default)')
    .option('--output-device <id>', 'device to speak through (see earshot devices; default: the system default)')
    .option('-o, --output <file>', 'write the spoken replies to a WAV file instead of playing them')
    .option('-q, --quiet', 'print only the conversation: no status line, no latency lines')
    .option('--json', 'print one JSON object per event, one per line (for scripts)')
    .addOption(
      new Option(
        '--duplex <mode>',
        'speech over a reply: full (headset: any speech interrupts), aec (open speakers: its own voice is cancelled from the microphone), gate (open speakers: a simpler echo gate), half (the microphone is ignored while it speaks)',
      )
        .choices(['full', 'aec', 'gate', 'half'])
        .default('aec'),
    );
  addModelFlags(cmd);
  addToolAndMaskFlags(cmd, 'phrase');
  addIdleResetFlags(cmd);
  addLogContentFlag(cmd);
  addHealthFlag(cmd);
  return cmd.action(async (flags: StartFlags) => {
    process.exitCode = await startLive(flags);
  });
}

function viewMode(flags: StartFlags): ViewMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return process.stderr.isTTY ? 'tty' : 'plain';
}

async function startLive(flags: StartFlags): Promise<number> {
  if (flags.json && flags.quiet) throw new EarshotError('BAD_OPTION', '--json and --quiet do not go together; pick one');
  // Everything a user can get wrong is checked before anything slow: models, then the devices.
  const acting = await toolAndMaskOptions(flags);
  if (!flags.output) checkOutputDeviceFlag(flags.outputDevice);
  const view = new TerminalView({ mode: viewMode(flags), content: showsContent(flags, process.stdout) });
  // Notices (a turn model that is missing) are said once the agent runs: a failure stays one line.
  const notices: string[] = [];
  const shared = agentOptionsFromFlags(flags, (line) => notices.push(line));

  const [inputRate, outputRate] = await Promise.all([
    deviceSampleRate(flags.inputDevice, 'input'),
    flags.output ? Promise.resolve(undefined) : deviceSampleRate(flags.outputDevice, 'output'),
  ]);

  // Ctrl-C is one cancellation path from the first moment: while devices open and models load too, so an
  // early Ctrl-C still ends the recorder process instead of leaving it to die of a broken pipe.
  const shutdown = new AbortController();
  let service: ServiceHooks | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C while closing: the user wants out now.
    if (shutdown.signal.aborted) process.exit(130);
    view.info(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: closing the devices`, { event: 'stopping', signal });
    void service?.stopping();
    shutdown.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let speaker: SpeakerSink | undefined;
  let collector: WavCollectorSink | undefined;
  let mic: MicInput | undefined;
  let agent: Agent | undefined;
  try {
    service = await ServiceHooks.start(flags, shared.models ?? {}, (line, event) => view.info(line, event));
    let sink: AudioSink;
    if (flags.output) {
      sink = collector = new WavCollectorSink();
    } else {
      // Loaded only here: the speaker package is native, and file output must work without it.
      const { openSpeakerSink } = await import('../audio/devices/speaker-sink.js');
      sink = speaker = await openSpeakerSink({ device: flags.outputDevice, sampleRate: outputRate });
      // A device failure is said once per outage ('lost'); its 'error' would be the same line again.
      speaker.on('error', ({ error }) => {
        if (!isEarshotError(error) || error.code !== 'NO_DEVICE') view.info(error.message, { event: 'output-error', message: error.message });
      });
      speaker.on('lost', ({ reason, retryInMs }) => view.outputLost(reason, retryInMs));
      speaker.on('restored', ({ downMs }) => view.outputRestored(downMs));
    }

    mic = new MicInput({ device: flags.inputDevice, sampleRate: inputRate });
    await mic.start();
    // Said from here on, while the models load too. The words cut off by a lost microphone are dropped, not
    // answered as if the user had finished.
    mic.on('lost', ({ reason, retryInMs }) =>
      void (agent?.inputLost() ?? Promise.resolve(false)).then((dropped) => view.microphoneLost(reason, retryInMs, dropped)),
    );
    mic.on('restored', ({ downMs }) => view.microphoneRestored(downMs));
    if (shutdown.signal.aborted) return 0;

    view.info('loading models…');
    agent = await createAgent({ ...shared, ...acting, ...idleResetOptions(flags), sink, interruption: { ...shared.interruption, duplex: flags.duplex } });
    if (shutdown.signal.aborted) return 0;

    const live = agent;
    for (const line of notices) view.info(line, { event: 'notice', message: line });
    view.attachAgent(live);
    view.attachMicrophone(mic);
    service.monitor.watchAgent(live);
    const hooks = service;
    live.on('fatal', (e) => {
      hooks.failed();
      view.fatal(fatalLine(e.message), { event: 'fatal', ...e });
      // The agent is not closed: its engines may be stuck. The recorder process and the speaker are.
      exitAfterFatal(() => Promise.allSettled([mic?.stop(), speaker?.close()]));
    });
    mic.on('data', ({ samples, sampleRate }) => live.pushAudio(samples, sampleRate));
    if (collector) live.on('transcript', () => collector!.beginTurn());
    live.start();
    const backends = live.backends;
    view.info(
      `listening on ${flags.inputDevice ?? 'the default microphone'} (${mic.toolName}, ${mic.sampleRate} Hz), ` +
        `speaking ${flags.output ? `into ${flags.output}` : `on ${flags.outputDevice ?? 'the default output'}`}; ` +
        `whisper on ${backends.stt}, LLM on ${backends.llm}, turns end by ${backends.turnEnd}`,
      { event: 'ready', input: flags.inputDevice ?? 'default', output: flags.output ?? flags.outputDevice ?? 'default', ...backends },
    );
    await service.ready(`listening; whisper on ${backends.stt}, LLM on ${backends.llm}`);
    await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    // Order matters: no new audio in, then the reply in progress is cut, then the output goes quiet.
    await mic?.stop();
    await agent?.close();
    await speaker?.close();
    await service?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (collector && flags.output && collector.sampleRate > 0) await writeWav(flags.output, collector.joined());
  if (agent) view.summary(agent.metrics());
  view.info('bye', { event: 'closed' });
  view.close();
  return 0;
}
