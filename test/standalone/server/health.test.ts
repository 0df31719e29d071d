import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvents } from '../../../src/agent/events.js';
import { SystemdNotifier } from '../../../src/cli/systemd-notify.js';
import { HealthMonitor } from '../../../src/server/health-monitor.js';
import { HealthServer } from '../../../src/server/health-server.js';
import { TypedEmitter } from '../../../src/util/typed-emitter.js';

/** An agent's events, emitted by the test. */
class Events extends TypedEmitter<AgentEvents> {
  send<K extends keyof AgentEvents & string>(event: K, payload: AgentEvents[K]): void {
    this.emit(event, payload);
  }
}

const turnEnd = (transcript: string) => ({ turn: 1, transcript, reply: 'Yes.', spoken: 'Yes.', interrupted: false });

describe('the health report', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('follows the agent: loading, its state, answered turns (not the apology), failures, reloads, and fatal as HTTP 503', async () => {
    const agent = new Events();
    const monitor = new HealthMonitor({ stt: '/models/stt/base.en/ggml-base.en.bin', voice: '/models/tts/en_US-amy-medium' }, 3);
    server = new HealthServer(() => monitor.report());
    await server.listen(0);
    const get = async () => {
      const res = await fetch(server!.url);
      return { code: res.status, body: (await res.json()) as ReturnType<HealthMonitor['report']> };
    };

    let r = await get();
    expect(r.code).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', state: 'loading', turns: 0, lastError: null, models: { stt: 'ggml-base.en.bin', voice: 'en_US-amy-medium' } });
    expect(r.body.sessions).toBeUndefined();

    monitor.watchAgent(agent);
    agent.send('state', { state: 'listening', previous: 'idle' });
    agent.send('turn-end', turnEnd('Hello?'));
    agent.send('engine-failure', { engine: 'llm', deadlineMs: 60_000, failures: 1, message: 'the language model gave no first token for 60.0 s' });
    agent.send('turn-end', turnEnd(''));
    agent.send('engine-reloaded', { engine: 'llm', ms: 900 });
    r = await get();
    expect(r.body).toMatchObject({
      status: 'degraded',
      state: 'listening',
      turns: 1,
      watchdog: { consecutiveFailures: 1, totalFailures: 1, reloads: 1, maxConsecutiveFailures: 3 },
    });
    expect(r.body.lastError?.message).toBe('the language model gave no first token for 60.0 s');
    expect(Date.parse(r.body.lastError!.at)).toBeGreaterThan(Date.now() - 60_000);

    agent.send('turn-end', turnEnd('Are you there?'));
    expect((await get()).body).toMatchObject({ status: 'ok', turns: 2, watchdog: { consecutiveFailures: 0, totalFailures: 1 } });

    agent.send('fatal', { engine: 'tts', failures: 3, message: 'the voice took more than 30.0 s; 3 engine failures in a row' });
    r = await get();
    expect(r.code).toBe(503);
    expect(r.body.status).toBe('failed');
    expect(r.body.lastError?.message).toBe('the voice took more than 30.0 s; 3 engine failures in a row');
  });
});

describe('SystemdNotifier', () => {
  it('pings at half WatchdogSec, only when systemd started this process with a watchdog meant for it', () => {
    const at = (env: NodeJS.ProcessEnv) => new SystemdNotifier(env).watchdogIntervalMs;
    expect(at({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' })).toBe(15_000);
    expect(at({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) })).toBe(15_000);
    expect(at({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) })).toBeUndefined();
    expect(at({ NOTIFY_SOCKET: '/run/x' })).toBeUndefined();
    expect(at({ WATCHDOG_USEC: '30000000' })).toBeUndefined();
    expect(new SystemdNotifier({}).enabled).toBe(false);
  });

  it('a missing systemd-notify is one notice, once, and nothing breaks', async () => {
    const problems: string[] = [];
    const notifier = new SystemdNotifier({ NOTIFY_SOCKET: '/nonexistent/notify.sock', PATH: '/nonexistent' }, (line) => problems.push(line));
    await notifier.ready('listening');
    await notifier.stopping();
    expect(problems).toEqual(["cannot notify systemd (systemd-notify is not installed); the unit's Type=notify and WatchdogSec need it"]);
  });
});
