/** What a systemd unit for `earshot start` is made from; everything else in it is fixed here. */
export interface ServiceUnitSpec {
  /** A user unit (~/.config/systemd/user, runs in the user's session beside its sound server) or a system unit. */
  user: boolean;
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of earshot's CLI script (dist/cli/main.js). */
  cli: string;
  /** Flags for `earshot start`, as given. */
  flags: readonly string[];
  /** Where earshot runs: relative model paths in the flags are relative to it, and models/ is found from it. */
  workingDirectory: string;
  /** For a system unit: the account it runs as, and that account's uid (to reach its sound server). */
  account?: { name: string; uid: number };
  /** Extra environment, e.g. the EARSHOT_* deadlines set where the unit was printed. */
  environment?: Readonly<Record<string, string>>;
  /** earshot's README, for Documentation=. */
  readme: string;
}

/** systemd kills and restarts earshot when no WATCHDOG=1 came for this long (earshot pings every half of it). */
export const WATCHDOG_SEC = 30;

/**
 * Environment every unit sets, one entry per line so more are easy to add. A system unit also gets the
 * XDG_RUNTIME_DIR of its account, where arecord, the speaker and the device listing find PulseAudio or PipeWire.
 */
export function serviceEnvironment(spec: Pick<ServiceUnitSpec, 'user' | 'account' | 'environment'>): [string, string][] {
  // glibc's default of one malloc arena per thread (llama.cpp, whisper.cpp and ONNX Runtime run many) costs some
  // 30 MB of RSS over a long run for nothing (measured with npm run soak); two arenas are plenty here.
  const env: [string, string][] = [['MALLOC_ARENA_MAX', '2']];
  if (!spec.user && spec.account) env.push(['XDG_RUNTIME_DIR', `/run/user/${spec.account.uid}`]);
  for (const [k, v] of Object.entries(spec.environment ?? {})) env.push([k, v]);
  return env;
}

/**
 * One word of ExecStart= or a value of Environment=, as systemd reads it: `%` is a specifier and `$` a variable
 * unless doubled; a word with spaces, quotes, backslashes or a lone `;` is double-quoted with C escapes.
 */
export function quoteForSystemd(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && /^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The unit: Type=notify with a watchdog, restarted on failure, run from the working directory with the given flags. */
export function serviceUnit(spec: ServiceUnitSpec): string {
  const exec = [spec.node, spec.cli, 'start', ...spec.flags].map(quoteForSystemd).join(' ');
  const env = serviceEnvironment(spec).map(([k, v]) => `Environment=${quoteForSystemd(`${k}=${v}`)}`);
  const lines = [
    '[Unit]',
    'Description=earshot, a local voice agent',
    `Documentation=file://${spec.readme}`,
    // The user's sound server (user units), or the sound cards (system units), come first.
    ...(spec.user ? ['After=pipewire-pulse.service pulseaudio.service'] : ['After=sound.target']),
    // A fault that a restart does not mend (a model deleted) stops the restarts instead of looping for ever.
    'StartLimitIntervalSec=600',
    'StartLimitBurst=5',
    '',
    '[Service]',
    // earshot says READY=1 once the models are loaded and it listens, then WATCHDOG=1 every half WatchdogSec
    // through systemd-notify, a child process: hence NotifyAccess=all.
    'Type=notify',
    'NotifyAccess=all',
    `WatchdogSec=${WATCHDOG_SEC}`,
    // Loading large models from a slow disk takes a while.
    'TimeoutStartSec=600',
    'TimeoutStopSec=30',
    `ExecStart=${exec}`,
    `WorkingDirectory=${quoteForSystemd(spec.workingDirectory)}`,
    ...(spec.user || !spec.account ? [] : [`User=${spec.account.name}`, 'SupplementaryGroups=audio']),
    ...env,
    // Exit 1 (three engine failures in a row, a lost model) and a missed watchdog ping restart it.
    'Restart=on-failure',
    'RestartSec=5',
    '',
    '[Install]',
    `WantedBy=${spec.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ];
  return lines.join('\n');
}
