import { EarshotError } from '../errors.js';
import type { Tool } from './tool.js';
import { compileToolSchema, type CompiledToolSchema } from './tool-schema.js';

/** A tool checked and ready to run: its schema compiled once. */
export interface RegisteredTool {
  tool: Tool;
  /** Absent for a tool without parameters. */
  schema: CompiledToolSchema | undefined;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The agent's tools by name. Building it checks every tool, so a bad one is reported (as an EarshotError
 * BAD_OPTION, one line) when the agent is created, never in the middle of a conversation.
 */
export class ToolRegistry {
  private readonly byName: ReadonlyMap<string, RegisteredTool>;

  /** @param tools anything: each entry is checked to be a tool */
  constructor(tools: readonly unknown[] = []) {
    const byName = new Map<string, RegisteredTool>();
    tools.forEach((value, index) => {
      const problem = toolProblem(value);
      if (problem) throw new EarshotError('BAD_OPTION', `tool ${index + 1} ${describe(value)}is not a tool: ${problem}`);
      const tool = value as Tool;
      if (byName.has(tool.name)) throw new EarshotError('BAD_OPTION', `two tools are named "${tool.name}"; tool names must be unique`);
      let schema: CompiledToolSchema | undefined;
      try {
        schema = tool.parameters === undefined ? undefined : compileToolSchema(tool.parameters);
      } catch (e) {
        throw new EarshotError('BAD_OPTION', `tool "${tool.name}": ${(e as Error).message}`, { cause: e });
      }
      byName.set(tool.name, { tool, schema });
    });
    this.byName = byName;
  }

  get(name: string): RegisteredTool | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get size(): number {
    return this.byName.size;
  }

  [Symbol.iterator](): IterableIterator<RegisteredTool> {
    return this.byName.values();
  }
}

/** Why `value` is not a usable tool, or undefined when it is one. */
export function toolProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `expected an object with name, description and handler, got ${value === null ? 'null' : typeof value}`;
  const t = value as Partial<Tool>;
  if (typeof t.name !== 'string' || !NAME.test(t.name)) return 'its name must be letters, digits and underscores (e.g. "opening_hours")';
  if (typeof t.description !== 'string' || t.description.trim() === '') return 'it needs a description the model can read';
  if (typeof t.handler !== 'function') return 'its handler is not a function';
  if (t.timeoutMs !== undefined && !(typeof t.timeoutMs === 'number' && t.timeoutMs > 0)) return 'its timeoutMs must be a positive number';
  return undefined;
}

function describe(value: unknown): string {
  const name = (value as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? `("${name}") ` : '';
}
