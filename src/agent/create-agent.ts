import type { AgentOptions } from './agent-options.js';
import { Agent } from './agent.js';
import { loadEngines } from './load-engines.js';

/**
 * Loads whatever engines `options.engines` does not bring (from `options.models`), all at once, and returns a
 * ready agent; call start() to begin listening. Engines are loaded once and reused for every turn.
 */
export async function createAgent(options: AgentOptions = {}): Promise<Agent> {
  const { engines, loaded } = await loadEngines(options);
  return new Agent(engines, options, loaded);
}
