import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { Command, CommanderError } from 'commander';
import { EarshotError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import { startCommand } from './start-command.js';
import { serviceUnit } from './service-unit.js';

interface PrintUnitFlags {
  user?: boolean;
}

/** Environment variables that tune earshot (deadlines, GPU choice): set where the unit is printed, kept in it. */
const KEPT_ENVIRONMENT = /^EARSHOT_/;

export function serviceCommand(): Command {
  const service = new Command('service').description('run earshot as a service (systemd)');
  service
    .command('print-unit')
    .description('print a systemd unit that runs earshot start with the given flags, restarted on failure, with a watchdog')
    .option('--user', 'a user unit (~/.config/systemd/user): runs in your session, beside your sound server')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .usage('[--user] [flags for earshot start...]')
    .addHelpText(
      'after',
      `
Install it (see the README's Kiosk section):
  earshot service print-unit --user --input-device ID > ~/.config/systemd/user/earshot.service
  systemctl --user daemon-reload && systemctl --user enable --now earshot && loginctl enable-linger $USER`,
    )
    .action((flags: PrintUnitFlags, cmd: Command) => {
      process.stdout.write(printUnit(flags, cmd.args));
    });
  return service;
}

/** The flags are checked as `earshot start` would check them, so a unit never starts with a typo in it. */
function checkStartFlags(flags: readonly string[]): void {
  const start = startCommand().exitOverride();
  start.configureOutput({ writeErr: () => undefined });
  let unknown: string[];
  try {
    unknown = start.parseOptions([...flags]).unknown;
  } catch (e) {
    if (e instanceof CommanderError) throw new EarshotError('BAD_OPTION', `${e.message.replace(/^error: /, '')} (flags for earshot start)`);
    throw e;
  }
  if (unknown.length > 0) throw new EarshotError('BAD_OPTION', `${unknown[0]} is not a flag of earshot start; see earshot start --help`);
}

export function printUnit(flags: PrintUnitFlags, startFlags: readonly string[]): string {
  checkStartFlags(startFlags);
  const root = packageRoot();
  const cli = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new EarshotError('NATIVE_MISSING', `${cli} is missing; build earshot first: npm run build`);
  const me = userInfo();
  // Printed with sudo for a system unit: the account to run as is the one that asked, not root.
  const name = process.env.SUDO_USER ?? me.username;
  const uid = process.env.SUDO_UID !== undefined ? Number(process.env.SUDO_UID) : me.uid;
  const environment = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => KEPT_ENVIRONMENT.test(e[0]) && e[1] !== undefined));
  return serviceUnit({
    user: flags.user ?? false,
    node: process.execPath,
    cli,
    flags: startFlags,
    workingDirectory: process.cwd(),
    account: { name, uid },
    environment,
    readme: join(root, 'README.md'),
  });
}
