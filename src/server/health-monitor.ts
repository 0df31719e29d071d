import { basename } from 'node:path';
import type { AgentModels } from '../agent/agent-options.js';
import type { AgentEvents, AgentState } from '../agent/events.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import type { VoiceServerEvents } from './voice-server.js';

/**
 * What GET /healthz answers. Never anything said in a conversation: counts, states, file names and one-line
 * error messages only.
 */
export interface HealthReport {
  /** 'ok'; 'degraded' while the last engine call failed and no turn has been answered since; 'failed' after 'fatal'. */
  status: 'ok' | 'degraded' | 'failed';
  /** 'loading' (the models), then the agent's state (earshot start) or 'serving' (earshot serve). */
  state: AgentState | 'loading' | 'serving';
  uptimeS: number;
  /** Turns answered since start (every conversation's, for earshot serve). */
  turns: number;
  /** Open conversations (earshot serve only). */
  sessions?: number;
  /** The last error or engine failure: one line and when (ISO time); null if none yet. */
  lastError: { message: string; at: string } | null;
  /** The model files loaded, by role (file or folder names, not paths). */
  models: Record<string, string>;
  watchdog: { consecutiveFailures: number; totalFailures: number; reloads: number; maxConsecutiveFailures: number };
}

/** Builds the health report from the events of an agent (earshot start) or of a voice server (earshot serve). */
export class HealthMonitor {
  private readonly startedAt = performance.now();
  private state: HealthReport['state'] = 'loading';
  private turns = 0;
  private sessions: number | undefined;
  private lastError: HealthReport['lastError'] = null;
  private consecutive = 0;
  private total = 0;
  private reloads = 0;
  private fatal = false;
  private readonly models: Record<string, string>;

  constructor(
    models: AgentModels,
    private readonly maxConsecutiveFailures: number,
  ) {
    this.models = Object.fromEntries(
      Object.entries(models)
        .filter((e): e is [string, string] => typeof e[1] === 'string')
        .map(([role, path]) => [role, basename(path)]),
    );
  }

  watchAgent(agent: TypedEmitter<AgentEvents>): void {
    agent.on('state', ({ state }) => (this.state = state));
    agent.on('turn-end', (r) => this.answered(r.transcript));
    agent.on('error', ({ error }) => this.error(error.message));
    agent.on('engine-failure', (e) => this.failed(e.message, e.failures));
    agent.on('engine-reloaded', () => this.reloads++);
    agent.on('fatal', (e) => this.died(e.message));
  }

  watchServer(server: TypedEmitter<VoiceServerEvents>): void {
    this.state = 'serving';
    this.sessions = 0;
    server.on('session-open', () => (this.sessions = (this.sessions ?? 0) + 1));
    server.on('session-close', () => (this.sessions = Math.max(0, (this.sessions ?? 1) - 1)));
    server.on('turn-end', (r) => this.answered(r.transcript));
    server.on('engine-failure', (e) => this.failed(e.message, e.failures));
    server.on('engine-reloaded', () => this.reloads++);
    server.on('fatal', (e) => this.died(e.message));
  }

  report(): HealthReport {
    const status = this.fatal ? 'failed' : this.consecutive > 0 ? 'degraded' : 'ok';
    return {
      status,
      state: this.state,
      uptimeS: Math.round((performance.now() - this.startedAt) / 100) / 10,
      turns: this.turns,
      ...(this.sessions === undefined ? {} : { sessions: this.sessions }),
      lastError: this.lastError,
      models: this.models,
      watchdog: {
        consecutiveFailures: this.consecutive,
        totalFailures: this.total,
        reloads: this.reloads,
        maxConsecutiveFailures: this.maxConsecutiveFailures,
      },
    };
  }

  /** A turn ended; what the agent said by itself (an apology) has no transcript and answers nobody. */
  private answered(transcript: string): void {
    if (transcript === '') return;
    this.turns++;
    this.consecutive = 0;
  }

  private failed(message: string, consecutive: number): void {
    this.consecutive = consecutive;
    this.total++;
    this.error(message);
  }

  private died(message: string): void {
    this.fatal = true;
    this.error(message);
  }

  private error(message: string): void {
    this.lastError = { message: message.split('\n')[0], at: new Date().toISOString() };
  }
}
