import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { AgentOptions } from '../agent/agent-options.js';
import { createAgent } from '../agent/create-agent.js';
import type { PcmChunk } from '../audio/pcm.js';
import { readWavForPipeline, writeWav } from '../audio/wav.js';
import { WavCollectorSink } from '../audio/wav-collector-sink.js';
import { EarshotError } from '../errors.js';
import { isDiskFull } from '../models/disk-space.js';
import { addModelFlags, agentOptionsFromFlags, type ModelFlags } from './model-flags.js';
import { sessionSummaryTable } from './session-summary.js';
import { addToolAndMaskFlags, toolAndMaskOptions, type ToolAndMaskFlags } from './tool-and-mask-flags.js';
import { latencyLine, metricsJsonLine, toolCallLine } from './turn-report.js';
import { addLogContentFlag, showsContent, type PrivacyFlags } from './privacy-flags.js';
import { exitAfterFatal, fatalLine } from './fatal-exit.js';

interface RunFlags extends ModelFlags, ToolAndMaskFlags, Pick<PrivacyFlags, 'logContent'> {
  input: string;
  output?: string;
  outputDir?: string;
  metricsJson?: string;
}


export function runCommand(): Command {
  const cmd = new Command('run')
    .description('answer every utterance in a WAV file and write the spoken replies')
    .requiredOption('-i, --input <file>', 'WAV file to listen to (8-48 kHz, mono or stereo, int or float)')
    .option('-o, --output <file>', 'write all spoken replies to one WAV file')
    .option('--output-dir <dir>', 'write each turn\'s reply to <dir>/turn-NN.wav')
    .option('--metrics-json <file>', 'write one JSON line per turn: {"turn","ms":{...},...}, with "transcript" and "reply" only under --log-content');
  addModelFlags(cmd);
  // A file is answered faster than real time: there is no silence to cover unless asked for.
  addToolAndMaskFlags(cmd, 'off');
  addLogContentFlag(cmd);
  return cmd.action(async (flags: RunFlags) => {
    process.exitCode = await runFile(flags);
  });
}

async function runFile(flags: RunFlags): Promise<number> {
  // Input and models are checked before any engine loads, so a typo costs no loading time.
  const input = await readWavForPipeline(flags.input);
  // Notices (a turn model that is missing) are said when the run has succeeded: a failure stays one line.
  const notices: string[] = [];
  const shared = agentOptionsFromFlags(flags, (line) => notices.push(line));
  const acting = await toolAndMaskOptions(flags);
  const metricsFile = flags.metricsJson;
  if (metricsFile) await writeFile(metricsFile, '').catch((e: unknown) => Promise.reject(metricsWriteError(metricsFile, e)));

  // A signal ends the run without writing anything: a reply file is either whole (the run finished) or absent.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signalExitCode(signal));
    stop.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await answerFile(flags, input, shared, acting, notices, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** 128 + the signal's number, as a shell reports a process that a signal ended (130 for Ctrl-C, 143 for SIGTERM). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 15);
}

async function answerFile(
  flags: RunFlags,
  input: PcmChunk,
  shared: AgentOptions,
  acting: Partial<AgentOptions>,
  notices: string[],
  stopped: AbortSignal,
): Promise<number> {
  const metricsFile = flags.metricsJson;
  const sink = new WavCollectorSink();
  if (process.stderr.isTTY) process.stderr.write('loading models…\r');
  const agent = await createAgent({
    ...shared,
    ...acting,
    sink,
    // A file is pushed faster than real time: an utterance found while a reply is being written is the
    // next question, not the user talking over the agent.
    interruption: { ...shared.interruption, enabled: false },
  });
  if (process.stderr.isTTY) process.stderr.write('               \r');

  let turns = 0;
  const errors: Error[] = [];
  // What was said is printed to a terminal; a pipe or a file (a log) gets it only under --log-content.
  const content = showsContent(flags, process.stdout);
  agent.on('transcript', ({ turn, text }) => {
    sink.beginTurn();
    if (content) console.log(`[turn ${turn}] you: ${text}`);
  });
  agent.on('turn-end', ({ turn, reply }) => {
    turns++;
    if (content) console.log(`[turn ${turn}] earshot: ${reply}`);
  });
  // Appends run one after another; the first failure stops the rest and is reported once the replies are written.
  let metricsWritten: Promise<void> = Promise.resolve();
  let metricsError: unknown;
  agent.on('metrics', (m) => {
    console.log(`[turn ${m.turn}] ${latencyLine(m)}`);
    if (!metricsFile) return;
    metricsWritten = metricsWritten
      .then(() => (metricsError === undefined ? appendFile(metricsFile, metricsJsonLine(m, flags.logContent === true) + '\n') : undefined))
      .catch((e: unknown) => {
        metricsError ??= e;
      });
  });
  agent.on('tool-result', (r) => console.log(`[turn ${r.turn}] ${toolCallLine(r, content)}`));
  agent.on('error', ({ error }) => errors.push(error));
  agent.on('engine-failure', (e) => console.error(`earshot: ${e.message}; the turn was dropped (engine failure ${e.failures} in a row)`));
  agent.on('fatal', (e) => {
    console.error(fatalLine(e.message));
    exitAfterFatal(async () => undefined);
  });

  const interrupted = async (): Promise<number> => {
    await agent.close();
    const signal = stopped.reason as NodeJS.Signals;
    console.error(`earshot: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopped before the end of ${flags.input}; nothing was written`);
    return signalExitCode(signal);
  };
  if (stopped.aborted) return interrupted();
  agent.start();
  const block = 16_000;
  for (let i = 0; i < input.samples.length; i += block) {
    agent.pushAudio(input.samples.subarray(i, i + block), input.sampleRate);
  }
  // flush() runs every turn to its end; a signal closes the agent, which cuts the turn in progress.
  const aborted = new Promise<void>((resolve) => stopped.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([agent.flush(), aborted]);
  if (stopped.aborted) return interrupted();
  await agent.close();
  const session = agent.metrics();

  if (errors.length > 0) throw errors[0];
  const sayNotices = () => notices.forEach((line) => console.error(line));
  if (turns === 0) {
    console.log('no speech found');
    sayNotices();
    return 0;
  }
  if (flags.output) await writeWav(flags.output, sink.joined());
  if (flags.outputDir) {
    await mkdir(flags.outputDir, { recursive: true });
    const perTurn = sink.perTurn();
    for (let i = 0; i < perTurn.length; i++) {
      await writeWav(join(flags.outputDir, `turn-${String(i + 1).padStart(2, '0')}.wav`), perTurn[i]);
    }
  }
  await metricsWritten;
  if (metricsError !== undefined) throw metricsWriteError(metricsFile!, metricsError);
  console.log(sessionSummaryTable(session));
  sayNotices();
  return 0;
}

function metricsWriteError(file: string, e: unknown): EarshotError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = isDiskFull(e) ? 'the disk is full' : `${code ?? String(e)}`;
  return new EarshotError('BAD_OPTION', `cannot write --metrics-json ${file} (${why}); free some space or give another file`);
}
