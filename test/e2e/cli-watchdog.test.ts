import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APOLOGY } from '../../src/agent/watchdog-options.js';
import { float32ToInt16 } from '../../src/audio/pcm.js';
import type { HealthReport } from '../../src/server/health-monitor.js';
import { processAlive } from '../../src/util/process-alive.js';
import { playInto, pulseUnavailable, startPulseServer } from '../support/pulse-server.js';
import { runCli, startCli } from '../support/run-cli.js';
import { until } from '../support/until.js';
import { fliteSpeech, writeScenario, type Scenario } from '../support/speech-fixtures.js';
import { modelFlags as testModelFlags, SCRIPTED_TRANSCRIPT } from '../support/test-models.js';

// whisper's window fitted to the utterance: the same transcript, a fraction of the compute.
const modelFlags = [...testModelFlags(), '--stt-window', 'fit'];

/** Polls `read` every 50 ms until it gives a value; fails with `what` after `ms`. */

describe('earshot run when the LLM never gives its first token in time', () => {
  let three: Scenario;
  beforeAll(async () => {
    three = await writeScenario('cli-three-questions', [600, 'What is the capital of France?', 1500, 'Is it far?', 1500, 'How old is it?', 1200]);
  });

  it('apologises twice, then exits 1 with one line after the third failure in a row', async () => {
    // A 1 ms first-token deadline: the real llama.cpp, evaluating the prompt, always takes longer.
    // --log-content: the apologies are read from stdout, a pipe, where words appear only when asked.
    const r = await runCli(['run', '--log-content', '--input', three.path, ...modelFlags, '--turn', 'silence', '--no-speculation'], {
      env: { EARSHOT_LLM_FIRST_TOKEN_TIMEOUT_MS: '1' },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
    expect(lines.at(-1)).toBe(
      'earshot: the language model gave no first token for 0.0 s; 3 engine failures in a row; exiting so the service manager restarts earshot ' +
        '(if it keeps happening, check the models: npm run fetch-models -- --check)',
    );
    expect(lines.filter((l) => l.includes('the turn was dropped (engine failure'))).toHaveLength(3);
    // The apology was said (by the real voice) after each of the first two failures, not after the third.
    expect(r.stdout.split('\n').filter((l) => l.endsWith(`earshot: ${APOLOGY}`))).toHaveLength(2);
  });
});

/** A unix datagram socket that records what is sent to it, as systemd's $NOTIFY_SOCKET does (python3). */
function notifyListener(path: string): { child: ChildProcess; messages: () => string[] } {
  const script = `
import socket, os, sys, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    # systemd-notify waits until the fd it passes with BARRIER=1 is closed: the manager has read the message.
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array('i'); fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds: os.close(fd)
    print(msg.decode().replace("\\n", "|"), flush=True)
`;
  const child = spawn('python3', ['-c', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, messages: () => out.split('\n').filter((l) => l !== '' && l !== 'bound') };
}

const python = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { stdio: 'ignore' }).status === 0;
const systemdNotify = spawnSync('systemd-notify', ['--version'], { stdio: 'ignore' }).status === 0;
const notifySkip = !python ? 'python3 is missing' : !systemdNotify ? 'systemd-notify is missing (Debian package systemd)' : undefined;
if (notifySkip) console.log(`systemd notification test skipped: ${notifySkip}`);

describe('earshot serve as a service', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-service-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /healthz on 127.0.0.1 only, 404 elsewhere; with no $NOTIFY_SOCKET it notifies nobody', async () => {
    const cli = startCli(['serve', '--port', '0', '--health-port', '0', '--json', ...modelFlags], { env: { NOTIFY_SOCKET: '' } });
    try {
      const healthUrl = await until(
        () => cli.stdout().split('\n').map((l) => (l.includes('"health"') ? (JSON.parse(l) as { url: string }).url : undefined)).find(Boolean),
        60_000,
        () => `the health line (stderr: ${cli.stderr()})`,
      );
      expect(healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
      await until(() => (cli.stdout().includes('"listening"') ? true : undefined), 120_000, () => `the server (stderr: ${cli.stderr()})`);
      const res = await fetch(healthUrl);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const health = (await res.json()) as Record<string, unknown>;
      expect(health).toMatchObject({
        status: 'ok',
        state: 'serving',
        turns: 0,
        sessions: 0,
        lastError: null,
        models: { stt: 'whisper-scripted-micro.bin', llm: 'llama-scripted.gguf', voice: 'voice-test' },
        watchdog: { consecutiveFailures: 0, totalFailures: 0, reloads: 0, maxConsecutiveFailures: 3 },
      });
      expect(health.uptimeS).toBeGreaterThan(0);
      const port = new URL(healthUrl).port;
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/healthz/x`)).status).toBe(404);
      expect((await fetch(healthUrl, { method: 'POST' })).status).toBe(405);
      // Bound to loopback only: no other address of this machine answers.
      const { networkInterfaces } = await import('node:os');
      const other = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4');
      if (other) await expect(fetch(`http://${other.address}:${port}/healthz`)).rejects.toThrow();
      cli.child.kill('SIGTERM');
      const r = await cli.exited;
      expect(r.code).toBe(0);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });

  it('a port in use for /healthz is one line, before any model loads', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--port', '0', '--health-port', String(port), ...modelFlags], { timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'))).toEqual([
        `earshot: --health-port ${port} is in use on 127.0.0.1; give another port (0: any free one)`,
      ]);
    } finally {
      busy.close();
    }
  });

  it.skipIf(notifySkip !== undefined)('tells $NOTIFY_SOCKET READY=1 once serving, pings WATCHDOG=1 every half WatchdogSec, and STOPPING=1 on SIGTERM', async () => {
    const socket = join(dir, 'notify.sock');
    const listener = notifyListener(socket);
    await until(() => (existsSync(socket) ? true : undefined), 10_000, () => 'the notify socket');
    // WatchdogSec=0.6 s: a ping every 300 ms.
    const cli = startCli(['serve', '--port', '0', '--json', ...modelFlags], { env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '600000' } });
    try {
      await until(() => (listener.messages().some((m) => m.startsWith('READY=1')) ? true : undefined), 120_000, () => `READY=1 (stderr: ${cli.stderr()})`);
      expect(cli.stdout()).toContain('"listening"');
      const ready = listener.messages().find((m) => m.startsWith('READY=1'))!;
      expect(ready).toMatch(/^READY=1\|STATUS=serving http:\/\/127\.0\.0\.1:\d+\/$/);
      const t0 = Date.now();
      await until(() => (listener.messages().filter((m) => m === 'WATCHDOG=1').length >= 3 ? true : undefined), 10_000, () => 'three watchdog pings');
      // Three pings 300 ms apart (under load, a little later).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
      cli.child.kill('SIGTERM');
      const r = await cli.exited;
      expect(r.code).toBe(0);
      await until(() => (listener.messages().includes('STOPPING=1') ? true : undefined), 5_000, () => 'STOPPING=1');
      // Nothing from systemd-notify went wrong: no notice about it.
      expect(r.stdout + r.stderr).not.toContain('cannot notify systemd');
    } finally {
      cli.child.kill('SIGKILL');
      listener.child.kill();
    }
  });
});

/** The recorder processes `pid` started (ps exits 1 when there are none). */
function recorders(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([, c]) => c === 'arecord')
      .map(([p]) => Number(p));
  } catch {
    return [];
  }
}

const noPulse = pulseUnavailable();
if (noPulse) console.log(`earshot start service test skipped: ${noPulse}`);

describe.skipIf(noPulse !== undefined || notifySkip !== undefined)('earshot start as a service, on a private PulseAudio', () => {
  it('READY=1 and /healthz once listening; each LLM failure is degraded health and an apology; the third exits 1 with one line and no recorder left', async () => {
    const pulse = await startPulseServer({ sinks: ['earA'] });
    const dir = await mkdtemp(join(tmpdir(), 'earshot-start-'));
    const socket = join(dir, 'notify.sock');
    const listener = notifyListener(socket);
    const question = float32ToInt16(await fliteSpeech(SCRIPTED_TRANSCRIPT));
    await until(() => (existsSync(socket) ? true : undefined), 10_000, () => 'the notify socket');
    const cli = startCli(
      ['start', '--json', '--output', join(dir, 'replies.wav'), '--input-device', 'pulse:earA.monitor', '--health-port', '0', '--turn', 'silence', '--no-speculation', ...modelFlags],
      { env: { ...pulse.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '10000000', EARSHOT_LLM_FIRST_TOKEN_TIMEOUT_MS: '1' } },
    );
    const events = () =>
      cli
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; url?: string; failures?: number; message?: string });
    const health = async () => (await (await fetch(events().find((e) => e.event === 'health')!.url!)).json()) as HealthReport;
    try {
      await until(() => (listener.messages().some((m) => m.startsWith('READY=1')) ? true : undefined), 60_000, () => `READY=1 (stderr: ${cli.stderr()})`);
      expect(listener.messages().find((m) => m.startsWith('READY=1'))).toMatch(/^READY=1\|STATUS=listening; whisper on cpu, LLM on cpu$/);
      expect(events().some((e) => e.event === 'ready')).toBe(true);
      expect(await health()).toMatchObject({ status: 'ok', state: 'listening', turns: 0 });
      const recorder = recorders(cli.child.pid!);
      expect(recorder).toHaveLength(1);

      for (let n = 1; n <= 3; n++) {
        await playInto(pulse, 'earA', question, 16_000);
        await until(() => (events().filter((e) => e.event === 'engine-failure').length >= n ? true : undefined), 30_000, () => `failure ${n}`);
        if (n < 3) {
          expect(await health()).toMatchObject({ status: 'degraded', turns: 0, watchdog: { consecutiveFailures: n, totalFailures: n } });
          // The apology is said before the next question.
          await until(() => (events().filter((e) => e.event === 'turn-end').length >= n ? true : undefined), 30_000, () => `apology ${n}`);
        }
      }
      const r = await cli.exited;
      expect(r.code).toBe(1);
      expect(events().filter((e) => e.event === 'fatal')).toMatchObject([{ engine: 'llm', failures: 3 }]);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^earshot: the language model gave no first token for 0\.0 s; 3 engine failures in a row; exiting so the service manager restarts earshot/);
      expect(recorder.filter(processAlive)).toEqual([]);
      // Pings went on while earshot recovered (every 5 s here); none needed to come after it gave up.
      expect(listener.messages().filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(1);
    } finally {
      cli.child.kill('SIGKILL');
      listener.child.kill();
      await pulse.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
