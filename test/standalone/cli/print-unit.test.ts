import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteForSystemd } from '../../../src/cli/service-unit.js';
import { runCli } from '../../support/run-cli.js';

/** A unit file as systemd reads it: sections of `Key=value` lines (a key may repeat), comments and blanks skipped. */
function parseUnit(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^[#;]/.test(line)) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = [];
      sections.set(header[1], current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit line: ${line}`);
    current.push([kv[1], kv[2]]);
  }
  return sections;
}

const get = (unit: Map<string, [string, string][]>, section: string, key: string) => unit.get(section)?.filter(([k]) => k === key).map(([, v]) => v) ?? [];

const analyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
if (!analyze) console.log('systemd-analyze verify skipped: systemd-analyze is not installed');

/** `systemd-analyze verify` on the unit: its complaints (it exits 0 on some, so stderr is what counts). */
function verify(path: string): string {
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return `${r.stderr}${r.status === 0 ? '' : `(exit ${r.status})`}`.trim();
}

const clean = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('npm warn'));

describe('earshot service print-unit', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-unit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a system unit: notify with a watchdog, restarted on failure, earshot start with the flags as given', async () => {
    const flags = ['--input-device', 'hw:1,0', '--duplex', 'full', '--health-port', '8766', '--system-prompt', 'You are the "museum" guide; 100% brief, $5 tips'];
    const r = await runCli(['service', 'print-unit', ...flags], { env: { EARSHOT_LLM_TOKEN_TIMEOUT_MS: '15000' } });
    expect(r.code, r.stderr).toBe(0);
    expect(clean(r.stderr)).toEqual([]);
    const unit = parseUnit(r.stdout);
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(get(unit, 'Service', 'Type')).toEqual(['notify']);
    expect(get(unit, 'Service', 'NotifyAccess')).toEqual(['all']);
    expect(get(unit, 'Service', 'WatchdogSec')).toEqual(['30']);
    expect(get(unit, 'Service', 'Restart')).toEqual(['on-failure']);
    expect(get(unit, 'Service', 'WorkingDirectory')).toEqual([process.cwd()]);
    expect(get(unit, 'Service', 'User')).toEqual([process.env.SUDO_USER ?? userInfo().username]);
    expect(get(unit, 'Service', 'Environment')).toEqual(['MALLOC_ARENA_MAX=2', `XDG_RUNTIME_DIR=/run/user/${process.env.SUDO_UID ?? userInfo().uid}`, 'EARSHOT_LLM_TOKEN_TIMEOUT_MS=15000']);
    expect(get(unit, 'Install', 'WantedBy')).toEqual(['multi-user.target']);
    const exec = get(unit, 'Service', 'ExecStart');
    expect(exec).toEqual([
      `${process.execPath} ${join(process.cwd(), 'dist', 'cli', 'main.js')} start --input-device hw:1,0 --duplex full --health-port 8766 ` +
        '--system-prompt "You are the \\"museum\\" guide; 100%% brief, $$5 tips"',
    ]);
    if (analyze) {
      const path = join(dir, 'earshot.service');
      await writeFile(path, r.stdout);
      expect(verify(path)).toBe('');
    }
  });

  it('prints a user unit with --user: no account or runtime folder of its own, wanted by the session', async () => {
    const r = await runCli(['service', 'print-unit', '--user', '--output-device', 'alsa_output.usb']);
    expect(r.code, r.stderr).toBe(0);
    const unit = parseUnit(r.stdout);
    expect(get(unit, 'Service', 'User')).toEqual([]);
    expect(get(unit, 'Service', 'Environment').filter((e) => e.startsWith('XDG_RUNTIME_DIR='))).toEqual([]);
    expect(get(unit, 'Install', 'WantedBy')).toEqual(['default.target']);
    expect(get(unit, 'Service', 'ExecStart')[0]).toMatch(/ start --output-device alsa_output\.usb$/);
    if (analyze) {
      // The user manager is not running here; the system one checks the same syntax and the ExecStart binary.
      const path = join(dir, 'earshot-user.service');
      await writeFile(path, r.stdout);
      expect(verify(path)).toBe('');
    }
  });

  it('a flag earshot start would refuse is one line, and no unit', async () => {
    for (const [args, line] of [
      [['--bogus'], 'earshot: --bogus is not a flag of earshot start; see earshot start --help'],
      [['--duplex', 'loud'], "earshot: option '--duplex <mode>' argument 'loud' is invalid. Allowed choices are full, aec, gate, half. (flags for earshot start)"],
      [['--threads', '0'], 'earshot: expected a whole number of 1 or more, got "0"'],
    ] as const) {
      const r = await runCli(['service', 'print-unit', ...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(clean(r.stderr)).toEqual([line]);
    }
  });

  it.skipIf(!analyze)('quotes every word as systemd splits it back', async () => {
    // systemd-analyze verify parses ExecStart= as systemd does: an unbalanced quote or an unknown %-specifier fails it.
    const words = ['plain', 'two words', 'a "quote"', 'back\\slash', '100%', '$HOME', ';', 'tab\there'];
    expect(words.map(quoteForSystemd)).toEqual(['plain', '"two words"', '"a \\"quote\\""', '"back\\\\slash"', '100%%', '$$HOME', '";"', '"tab\there"']);
    const path = join(dir, 'quoted.service');
    await writeFile(path, `[Service]\nType=oneshot\nExecStart=/bin/echo ${words.map(quoteForSystemd).join(' ')}\n`);
    expect(verify(path)).toBe('');
  });
});
