import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ROOT = process.cwd();
export const NO_NETWORK_GUARD = join(ROOT, 'test', 'support', 'no-network-guard.mjs');

export interface CliOptions {
  /** Preload the no-network guard (any socket or DNS use ends the process with code 99). */
  guard?: boolean;
  /** Run inside a fresh network namespace (unshare --net): no interface but a downed loopback. */
  netns?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited, with all it printed. */
  exited: Promise<CliResult>;
}

/**
 * Starts the earshot CLI from source as a child process, the way a user's shell would (own process, own exit
 * code), for tests that talk to it while it runs.
 */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const nodeArgs = ['--import', 'tsx', ...(options.guard ? ['--import', NO_NETWORK_GUARD] : []), join(ROOT, 'src', 'cli', 'main.ts'), ...args];
  const [cmd, argv] = options.netns ? ['unshare', ['--net', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the CLI to the end (killed after `timeoutMs`, default 120 s) and returns what it printed. */
export async function runCli(args: string[], options: CliOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const cli = startCli(args, options);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}
