import type { Command } from 'commander';
import type { AgentModels } from '../agent/agent-options.js';
import { defaultWatchdogOptions } from '../agent/watchdog-options.js';
import { EarshotError } from '../errors.js';
import { HealthMonitor } from '../server/health-monitor.js';
import { HealthServer } from '../server/health-server.js';
import { SystemdNotifier } from './systemd-notify.js';

/** The flag a command that runs as a service takes. */
export interface HealthFlags {
  healthPort?: number;
}

function parseHealthPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new EarshotError('BAD_OPTION', `--health-port takes 0-65535 (0: any free port), got "${value}"`);
  return n;
}

export function addHealthFlag(cmd: Command): Command {
  return cmd.option('--health-port <port>', 'serve GET /healthz (JSON: state, uptime, turns, last error, models) on 127.0.0.1:<port>', parseHealthPort);
}

/**
 * What a command does for a service manager: /healthz when asked for (bound before the models load, so a port in
 * use fails fast and a monitor sees 'loading'), and READY=1 / WATCHDOG=1 to systemd when it started earshot.
 */
export class ServiceHooks {
  readonly monitor: HealthMonitor;
  private readonly health: HealthServer | undefined;
  private readonly notifier: SystemdNotifier;
  private fatal = false;

  private constructor(models: AgentModels, healthPort: number | undefined, notice: (line: string, event: Record<string, unknown>) => void) {
    this.monitor = new HealthMonitor(models, defaultWatchdogOptions().maxConsecutiveFailures);
    this.health = healthPort === undefined ? undefined : new HealthServer(() => this.monitor.report());
    this.notifier = new SystemdNotifier(process.env, (line) => notice(line, { event: 'notice', message: line }));
  }

  static async start(flags: HealthFlags, models: AgentModels, notice: (line: string, event: Record<string, unknown>) => void): Promise<ServiceHooks> {
    const hooks = new ServiceHooks(models, flags.healthPort, notice);
    if (hooks.health) {
      await hooks.health.listen(flags.healthPort!);
      notice(`health report at ${hooks.health.url}`, { event: 'health', url: hooks.health.url });
    }
    return hooks;
  }

  /** Everything is loaded and listening: systemd may consider the service started, and the watchdog pings begin. */
  async ready(status: string): Promise<void> {
    await this.notifier.ready(status);
    this.notifier.startWatchdog(() => !this.fatal);
  }

  /** The engines failed for good: no more watchdog pings (the process is about to exit 1). */
  failed(): void {
    this.fatal = true;
    this.notifier.close();
  }

  async stopping(): Promise<void> {
    await this.notifier.stopping();
  }

  async close(): Promise<void> {
    this.notifier.close();
    await this.health?.close();
  }
}
