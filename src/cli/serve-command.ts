import { networkInterfaces } from 'node:os';
import { Command, Option } from 'commander';
import { loadEngines } from '../agent/load-engines.js';
import { EarshotError } from '../errors.js';
import { generateToken, isLoopbackHost } from '../server/access-policy.js';
import { defaultServeOptions } from '../server/serve-options.js';
import { SUBPROTOCOL } from '../server/protocol.js';
import { checkBindable, SOCKET_PATH, VoiceServer } from '../server/voice-server.js';
import type { DuplexMode } from '../turn/echo-gate-options.js';
import type { ServerSection } from './config-sections.js';
import { addModelFlags, agentOptionsFromFlags, parsePositiveInt, type ModelFlags } from './model-flags.js';
import { ReloadableEngines, type EngineLoaders } from '../agent/reloadable-engines.js';
import { exitAfterFatal, fatalLine } from './fatal-exit.js';
import { addHealthFlag, ServiceHooks, type HealthFlags } from './service-hooks.js';
import { ServeLog, type ServeLogMode } from './serve-log.js';
import { addIdleResetFlags, addLogContentFlag, idleResetOptions, type PrivacyFlags } from './privacy-flags.js';
import { addToolAndMaskFlags, toolAndMaskOptions, type ToolAndMaskFlags } from './tool-and-mask-flags.js';

interface ServeFlags extends ModelFlags, PrivacyFlags, HealthFlags, ToolAndMaskFlags {
  host: string;
  port: number;
  token?: string;
  maxSessions: number;
  idleTimeout: number;
  duplex: DuplexMode;
  quiet?: boolean;
  json?: boolean;
  /** The config file's `server` section (--config): limits that have no flag. */
  server?: ServerSection;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EarshotError('BAD_OPTION', `--port takes 0-65535 (0: any free port), got "${value}"`);
  return n;
}

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description(
      'serve a web page that talks: the browser\'s microphone in, its speaker out, live captions, over a WebSocket ' +
        'on the same origin; nothing is loaded from the internet',
    )
    .option('--host <address>', 'address to bind; any other than a loopback address requires a token', defaultServeOptions.host)
    .option('--port <n>', 'TCP port (0: any free port)', parsePort, defaultServeOptions.port)
    .option(
      '--token <secret>',
      'secret the page URL (?token=) and every socket must present; generated and printed when binding a non-loopback address without one',
    )
    .option('--max-sessions <n>', 'conversations at once; one more is told it is busy', parsePositiveInt, defaultServeOptions.maxSessions)
    .option('--idle-timeout <seconds>', 'close a session from which nothing arrived for this long', parsePositiveInt, defaultServeOptions.idleTimeoutMs / 1000)
    .addOption(
      new Option('--duplex <mode>', 'speech over a reply: full, gate or half (as for earshot start)').choices(['full', 'gate', 'half']).default('gate'),
    )
    .option('-q, --quiet', 'print only the conversations')
    .option('--json', 'print one JSON object per line: the protocol messages of every session, and connections')
    .addHelpText(
      'after',
      `
The page and the socket (${SOCKET_PATH}, subprotocol ${SUBPROTOCOL}) share one origin; the socket refuses other origins.
Bound to 127.0.0.1 (the default) only this machine can connect. Any other address needs a token: give --token,
or earshot generates one and prints the URL that carries it. Open the page with ?autostart=1 to start
listening hands-free on load (a kiosk), e.g. chromium --kiosk --autoplay-policy=no-user-gesture-required URL.`,
    );
  addModelFlags(cmd);
  // The page plays a filler like any reply audio: masked as in earshot start.
  addToolAndMaskFlags(cmd, 'phrase');
  addIdleResetFlags(cmd);
  addLogContentFlag(cmd);
  addHealthFlag(cmd);
  return cmd.action(async (flags: ServeFlags) => {
    process.exitCode = await serve(flags);
  });
}

function logMode(flags: ServeFlags): ServeLogMode {
  if (flags.json && flags.quiet) throw new EarshotError('BAD_OPTION', '--json and --quiet do not go together; pick one');
  return flags.json ? 'json' : flags.quiet ? 'quiet' : 'plain';
}

/** Addresses other machines may reach this one at, for the URL printed when binding every interface. */
function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
}

async function serve(flags: ServeFlags): Promise<number> {
  // The page is where a conversation is shown; the server's output is its log, even on a terminal.
  const log = new ServeLog(logMode(flags), process.stdout, process.stderr, flags.logContent === true);
  // Notices (a turn model that is missing) are said once the server listens: a failure stays one line.
  const notices: string[] = [];
  const shared = agentOptionsFromFlags(flags, (line) => notices.push(line));
  const token = flags.token ?? (isLoopbackHost(flags.host) ? undefined : generateToken());
  if (token !== undefined && token.length === 0) throw new EarshotError('BAD_OPTION', '--token must not be empty');

  await checkBindable(flags.host, flags.port);
  // A broken tools module is one line before any model loads; every session gets the same tools.
  const acting = await toolAndMaskOptions(flags);

  const service = await ServiceHooks.start(flags, shared.models ?? {}, (line, event) => log.notice(line, event));
  const shutdown = new AbortController();
  const onSignal = () => {
    if (shutdown.signal.aborted) process.exit(130);
    log.notice('closing the sessions', { event: 'stopping' });
    void service.stopping();
    shutdown.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log.notice('loading models…', { event: 'loading' });
  const { engines, loaded, loaders } = await loadEngines(shared, ['stt', 'llm', 'tts']).catch(async (e: unknown) => {
    await service.close();
    throw e;
  });
  // The engines every conversation shares: one that hangs is replaced for all of them. Each conversation's
  // watchdog asks for the reload; two asking at once get one.
  const common = new ReloadableEngines(engines, loaders);
  const engineLoaders: EngineLoaders = {
    stt: () => common.reload('stt').then(() => common.engines.stt),
    llm: () => common.reload('llm').then(() => common.engines.llm),
    tts: () => common.reload('tts').then(() => common.engines.tts),
  };
  let server: VoiceServer | undefined;
  try {
    server = new VoiceServer({
      engines: common.engines,
      agentOptions: { ...shared, ...acting, ...idleResetOptions(flags), interruption: { ...shared.interruption, duplex: flags.duplex }, engineLoaders },
      serve: { ...flags.server, host: flags.host, port: flags.port, token, maxSessions: flags.maxSessions, idleTimeoutMs: flags.idleTimeout * 1000 },
    });
    log.attach(server);
    service.monitor.watchServer(server);
    server.on('engine-failure', (e) =>
      log.notice(`session ${e.session}: ${e.message}; the turn was dropped (engine failure ${e.failures} in a row)`, { event: 'engine-failure', ...e }),
    );
    server.on('engine-reloaded', (e) => log.notice(`${e.engine} engine reloaded in ${e.ms} ms`, { event: 'engine-reloaded', ...e }));
    server.on('fatal', (e) => {
      service.failed();
      console.error(fatalLine(e.message));
      exitAfterFatal(() => service.close());
    });
    if (!shutdown.signal.aborted) {
      await server.listen();
      await service.ready(`serving ${server.url.replace(/\?token=.*/, '')}`);
      for (const line of notices.splice(0)) log.notice(line, { event: 'notice', message: line });
      if (['0.0.0.0', '::'].includes(flags.host)) {
        const query = token ? `?token=${encodeURIComponent(token)}` : '';
        for (const a of lanAddresses()) log.notice(`also at http://${a}:${new URL(server.url).port}/${query}`, { event: 'address', address: a });
      }
      await new Promise<void>((resolve) => shutdown.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
  } finally {
    await server?.close();
    // Disposing the shared engines frees the ones in use now, reloaded or not.
    await Promise.allSettled((['stt', 'llm', 'tts'] as const).filter((k) => loaded.includes(k)).map((k) => common.engines[k].dispose()));
    await service.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  log.notice('bye', { event: 'closed' });
  return 0;
}
