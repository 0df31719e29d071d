import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak, type SoakReport } from './soak/soak-run.js';
import { defaultSoakBound } from './soak/soak-verdict.js';

const USAGE = `npm run soak -- --minutes N [--settle-turns N] [--json FILE] [--every TURNS] [--warmup FRACTION] [--reset-every ROUNDS] [--threads N]
                                   [--max-rss-growth MB] [--malloc-arenas N|default]

Drives a scripted conversation through a real agent on the generated test models (spoken and typed turns,
speculative turns, barge-ins, idle resets) as fast as they go, and prints RSS, heap, native memory and open
descriptors every --every turns (default 100). --settle-turns runs that many turns first, all warm-up, before
the minutes start (default 0). At the end it judges the run: after warm-up (the first
--warmup of the turns, default ${defaultSoakBound.warmupFraction}, at least ${defaultSoakBound.minWarmupTurns}), RSS must grow less than --max-rss-growth MB per 1000 turns (default
${defaultSoakBound.maxRssMbPer1000Turns}) and open descriptors must not grow. It runs with MALLOC_ARENA_MAX=2 (--malloc-arenas, as a long-running deployment
should: with glibc's default of one malloc arena per thread RSS sat 30 to 40 MB higher over an hour; 'default'
measures that). Exit status: 0 within the bound, 1 outside it (or too few samples to tell), 2 on an error.
No downloaded model is needed: the generated test models are made by the test setup (any npx vitest run).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      json: { type: 'string' },
      every: { type: 'string', default: '100' },
      'settle-turns': { type: 'string', default: '0' },
      warmup: { type: 'string', default: String(defaultSoakBound.warmupFraction) },
      'max-rss-growth': { type: 'string', default: String(defaultSoakBound.maxRssMbPer1000Turns) },
      'reset-every': { type: 'string', default: '5' },
      threads: { type: 'string', default: '1' },
      'malloc-arenas': { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const arenas = values['malloc-arenas'];
  if (arenas !== 'default' && !/^[1-9]\d*$/.test(arenas)) throw new Error(`--malloc-arenas must be a whole number or 'default', got ${arenas}`);
  // glibc reads MALLOC_ARENA_MAX when the process starts: the soak runs again as a child with it set.
  if (arenas !== 'default' && process.env.MALLOC_ARENA_MAX !== arenas) {
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, MALLOC_ARENA_MAX: arenas },
    });
    if (child.error) throw child.error;
    return child.status ?? 2;
  }
  const minutes = Number(values.minutes);
  if (values.minutes === undefined || !(minutes > 0)) throw new Error(`--minutes must be a positive number, e.g. --minutes 60 (got ${values.minutes ?? 'none'})`);
  const warmupFraction = Number(values.warmup);
  if (!(warmupFraction >= 0 && warmupFraction < 1)) throw new Error(`--warmup must be a fraction from 0 to below 1, e.g. 0.5, got ${values.warmup}`);
  const maxRssMbPer1000Turns = Number(values['max-rss-growth']);
  if (!(maxRssMbPer1000Turns > 0)) throw new Error(`--max-rss-growth must be a positive number of MB per 1000 turns, e.g. 5, got ${values['max-rss-growth']}`);
  const whole = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got ${v}`);
    return n;
  };
  const report = await runSoak({
    minutes,
    sampleEvery: whole('every', values.every),
    settleTurns: values['settle-turns'] === '0' ? 0 : whole('settle-turns', values['settle-turns']),
    resetEveryRounds: whole('reset-every', values['reset-every']),
    threads: whole('threads', values.threads),
    mallocArenas: process.env.MALLOC_ARENA_MAX ?? 'default',
    bound: { warmupFraction, maxRssMbPer1000Turns },
    log: (line) => console.log(line),
  });
  console.log(summary(report));
  if (values.json) {
    await mkdir(dirname(values.json), { recursive: true });
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report.verdict.ok ? 0 : 1;
}

function summary(r: SoakReport): string {
  const v = r.verdict;
  const c = r.counts;
  const lines = [
    `${c.turns} turns (${c.spokenTurns} spoken, ${c.typedTurns} typed) · ${c.bargeIns} barge-ins · ${c.speculations} speculations · ` +
      `${c.resets} resets (${c.idleResets} by the idle timer) · ${c.errors} errors`,
    `after a ${v.warmupTurns}-turn warm-up (${v.judgedSamples} samples), MB per 1000 turns: RSS ${v.slopeMbPer1000Turns.rss} ` +
      `(least squares ${v.rssLeastSquaresMbPer1000Turns}), RssAnon ${v.slopeMbPer1000Turns.rssAnon ?? '-'}, heap ${v.slopeMbPer1000Turns.heapUsed}, ` +
      `external ${v.slopeMbPer1000Turns.external}; descriptors ${v.fds ? `${v.fds.firstThird} -> ${v.fds.lastThird}` : '-'}`,
    ...r.errors.map((e) => `error: ${e}`),
    v.ok ? 'verdict: PASS' : `verdict: FAIL\n${v.failures.map((f) => `  ${f}`).join('\n')}`,
  ];
  return lines.join('\n');
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`soak: ${e.message}`);
    process.exitCode = 2;
  },
);
