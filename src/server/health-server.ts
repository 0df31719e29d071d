import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EarshotError } from '../errors.js';
import type { HealthReport } from './health-monitor.js';

/** The health endpoint's path; every other path is a 404. */
export const HEALTH_PATH = '/healthz';

/**
 * GET /healthz as JSON, on 127.0.0.1 only: for a service manager, a kiosk's monitoring or `curl -f`. The status
 * is 200 while earshot works (also 'degraded': it is reloading an engine) and 503 once it has failed for good.
 */
export class HealthServer {
  private readonly http: Server;
  private port = 0;

  constructor(private readonly report: () => HealthReport) {
    this.http = createServer((req, res) => {
      const { pathname } = new URL(req.url ?? '/', 'http://x');
      if (pathname !== HEALTH_PATH) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found; the health report is at /healthz\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const health = this.report();
      const body = JSON.stringify(health) + '\n';
      res.writeHead(health.status === 'failed' ? 503 : 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${HEALTH_PATH}`;
  }

  /** Binds 127.0.0.1:`port` (0: any free port). A port in use is one line that says so. */
  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new EarshotError('BAD_OPTION', `--health-port ${port} is in use on 127.0.0.1; give another port (0: any free one)`)
            : e,
        );
      this.http.once('error', onError);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', onError);
        resolve();
      });
    });
    this.port = (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.http.listening) return;
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
