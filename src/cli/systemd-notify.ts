import { execFile } from 'node:child_process';

/** Longest one notification may take (systemd-notify waits until the service manager has read it). */
const NOTIFY_TIMEOUT_MS = 5000;

/**
 * Tells systemd that earshot is ready and alive (Type=notify, WatchdogSec=), through `systemd-notify`. Node
 * has no unix datagram sockets and earshot takes no native module for one; systemd-notify ships with systemd
 * wherever $NOTIFY_SOCKET can be set, and by default it waits until the service manager has read each message,
 * so the message is credited to the unit although it comes from a child (the unit sets NotifyAccess=all).
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or Type=simple) every call does nothing.
 */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Receives one line the first time systemd-notify fails (missing, or the socket refused it). */
    private readonly onProblem: (line: string) => void = () => {},
  ) {}

  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /**
   * How often to ping the watchdog: half of WatchdogSec (systemd passes it as $WATCHDOG_USEC), when it is
   * meant for this process ($WATCHDOG_PID unset or ours); undefined when there is no watchdog.
   */
  get watchdogIntervalMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return undefined;
    if (this.env.WATCHDOG_PID && Number(this.env.WATCHDOG_PID) !== process.pid) return undefined;
    return Math.max(100, usec / 1000 / 2);
  }

  /** READY=1 with a status line: the models are loaded and earshot listens. */
  ready(status: string): Promise<void> {
    return this.send(['--ready', `--status=${status}`]);
  }

  /**
   * Pings WATCHDOG=1 every half WatchdogSec while `alive()` holds. A blocked event loop stops the pings too, and
   * systemd then kills and restarts earshot; a hung engine call is the in-process watchdog's to catch.
   */
  startWatchdog(alive: () => boolean): void {
    const every = this.watchdogIntervalMs;
    if (every === undefined || this.timer) return;
    this.timer = setInterval(() => {
      if (alive()) void this.send(['WATCHDOG=1']);
    }, every);
    this.timer.unref();
  }

  /** STOPPING=1: a shutdown was asked for (systemd then does not count the time to close as a hang). */
  stopping(): Promise<void> {
    this.close();
    return this.send(['STOPPING=1']);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(args: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve) => {
      execFile('systemd-notify', args, { env: this.env, timeout: NOTIFY_TIMEOUT_MS }, (error, _out, stderr) => {
        if (error && !this.warned) {
          this.warned = true;
          const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'systemd-notify is not installed' : String(stderr || error.message).trim().split('\n')[0];
          this.onProblem(`cannot notify systemd (${why}); the unit's Type=notify and WatchdogSec need it`);
        }
        resolve();
      });
    });
  }
}
