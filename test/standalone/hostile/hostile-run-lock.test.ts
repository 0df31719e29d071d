import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOSTILE_ROOT, caseDir } from './hostile-fixtures.js';

const RUN_LOCK_MODULE = join(process.cwd(), 'src', 'models', 'run-lock.ts');

afterAll(() => rmSync(HOSTILE_ROOT, { recursive: true, force: true }));

/** Runs `body` (ESM, with acquireRunLock in scope) in its own node process; resolves with what it printed. */
function child(dir: string, body: string): Promise<string> {
  const script = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(script, `import { acquireRunLock } from ${JSON.stringify(RUN_LOCK_MODULE)};\n${body.trim()}\n`);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(out.trim()));
  });
}

describe('the fetch-models run lock', () => {
  it('is taken over from a dead run by exactly one of four runs started together, round after round', async () => {
    const { root, models } = caseDir('stale-lock');
    const lock = join(models, '.fetch-models.lock');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lock, `${dead} stale-before\n`);
    const rounds = 5;
    const startAt = Date.now() + 4000;
    // Each round's winner then dies holding the lock: its file is left naming a process that is gone.
    const body = `
      import { writeFileSync } from 'node:fs';
      for (let round = 0; round < ${rounds}; round++) {
        await new Promise((r) => setTimeout(r, ${startAt} + round * 1500 - Date.now()));
        try {
          await acquireRunLock(${JSON.stringify(models)});
          console.log('GOT ' + round + ' ' + process.pid);
          await new Promise((r) => setTimeout(r, 700));
          writeFileSync(${JSON.stringify(lock)}, '${dead} stale-' + round + '\\n');
        } catch (e) {
          console.log('BUSY ' + round + ' ' + e.message);
        }
      }`;
    const lines = (await Promise.all([1, 2, 3, 4].map(() => child(root, body)))).flatMap((out) => out.split('\n'));
    for (let round = 0; round < rounds; round++) {
      const winners = lines.filter((l) => l.startsWith(`GOT ${round} `));
      expect(winners, lines.join('\n')).toHaveLength(1);
      const pid = winners[0]!.split(' ')[2];
      for (const busy of lines.filter((l) => l.startsWith(`BUSY ${round} `))) {
        expect(busy).toMatch(new RegExp(`^BUSY ${round} Another fetch-models run \\(pid ${pid}\\) is using `));
      }
    }
  }, 60_000);

  it('never shows a reader a lock without its pid', async () => {
    const { root, models } = caseDir('lock-reader');
    const lock = join(models, '.fetch-models.lock');
    const writer = child(root, `
      for (let i = 0; i < 300; i++) {
        const release = await acquireRunLock(${JSON.stringify(models)});
        await release();
      }
      console.log('DONE');`);
    let finished = false;
    void writer.then(() => (finished = true));
    const seen: string[] = [];
    while (!finished) {
      try {
        seen.push(readFileSync(lock, 'utf8'));
      } catch {
        // Between two runs there is no lock at all, which is fine.
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await writer).toBe('DONE');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => !/^[1-9]\d*\b/.test(s))).toEqual([]);
  });
});
