#!/usr/bin/env node
// First: no dependency may write telemetry (see no-telemetry.ts).
import '../util/no-telemetry.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { isEarshotError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import { withConfigFile } from './config-file.js';
import { configSectionsFor } from './config-sections.js';
import { devicesCommand } from './devices-command.js';
import { runCommand } from './run-command.js';
import { serveCommand } from './serve-command.js';
import { serviceCommand } from './service-command.js';
import { startCommand } from './start-command.js';

/** The version in package.json, so `earshot --version` never drifts from the package. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Every failure a user can cause ends here as one line and a non-zero exit; anything else is a bug, still
 * one line, with the stack only when EARSHOT_DEBUG is set.
 */
function reportAndExit(e: unknown): never {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (isEarshotError(e)) {
    console.error(`earshot: ${e.message}`);
    process.exit(e.code === 'BAD_OPTION' ? 2 : 1);
  }
  const err = e as Error;
  console.error(`earshot: unexpected error: ${String(err?.message ?? e).split('\n')[0]}`);
  if (process.env.EARSHOT_DEBUG) console.error(err?.stack);
  else console.error('earshot: set EARSHOT_DEBUG=1 to see the details');
  process.exit(1);
}

/** A command that runs the agent: it takes --config, and its errors point at its own --help. */
function agentCommand(name: 'start' | 'run' | 'serve', cmd: Command): Command {
  return withConfigFile(cmd, configSectionsFor(name)).exitOverride().showHelpAfterError(`(run earshot ${name} --help for usage)`);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('earshot')
    .description('a fully local voice agent: Silero VAD, whisper.cpp, a local LLM and Piper voices, offline')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    // `earshot` alone (and `npm start`) is a live conversation.
    .addCommand(agentCommand('start', startCommand()), { isDefault: true })
    .addCommand(agentCommand('run', runCommand()))
    .addCommand(agentCommand('serve', serveCommand()))
    .addCommand(devicesCommand().exitOverride())
    .addCommand(serviceCommand().exitOverride())
    .command('fetch-models')
    .description('download, verify and install models (the one step that uses the network)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (_opts: unknown, cmd: Command) => {
      const { fetchModelsCommand } = await import('./fetch-models.js');
      process.exitCode = await fetchModelsCommand(cmd.args);
    })
    .parent!;
  await program.parseAsync(argv, { from: 'user' });
}

main(process.argv.slice(2)).catch(reportAndExit);
