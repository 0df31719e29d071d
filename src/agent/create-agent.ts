import type { AgentOptions } from './agent-options.js';
import { Agent } from './agent.js';
import { loadEngines } from './load-engines.js';
import { ReloadableEngines } from './reloadable-engines.js';

/**
 * Loads whatever engines `options.engines` does not bring (from `options.models`), all at once, and returns a
 * ready agent; call start() to begin listening. Engines are loaded once and reused for every turn; one that hangs
 * is replaced by a fresh one loaded the same way (or by `options.engineLoaders` for engines brought in).
 */
export async function createAgent(options: AgentOptions = {}): Promise<Agent> {
  const { engines, loaded, loaders } = await loadEngines(options);
  const reloadable = new ReloadableEngines(engines, { ...options.engineLoaders, ...loaders });
  // An engine brought in but replaced after a hang was loaded here: this agent frees it too.
  const owned = () => [...new Set([...loaded, ...reloadable.replaced()])];
  return new Agent({ ...engines, ...reloadable.engines }, options, owned, reloadable);
}
