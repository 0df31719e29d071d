import { execFileSync } from 'node:child_process';

/** The child processes of `pid` (ps exits 1 when there are none). */
export function children(pid: number): { pid: number; command: string }[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([p, c]) => p && c)
      .map(([p, c]) => ({ pid: Number(p), command: c }));
  } catch {
    return [];
  }
}
