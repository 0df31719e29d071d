import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ROOT = process.cwd();
export const NO_NETWORK_GUARD = join(ROOT, 'test', 'support', 'no-network-guard.mjs');

/**
 * Runs the earshot CLI from source as a child process, the way a user's shell would (own process, own exit
 * code), optionally under the no-network guard or inside a fresh network namespace with no interfaces up.
 */
export function runCli(
  args: string[],
  options: { guard?: boolean; netns?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const nodeArgs = ['--import', 'tsx', ...(options.guard ? ['--import', NO_NETWORK_GUARD] : []), join(ROOT, 'src', 'cli', 'main.ts'), ...args];
  const [cmd, argv] = options.netns ? ['unshare', ['--net', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
