import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EarshotError, firstLine } from '../errors.js';
import { ToolRegistry } from './tool-registry.js';
import type { Tool } from './tool.js';

/**
 * Loads the tools an operator gives in an ES module (`--tools FILE`): its default export, or an export named
 * `tools`, is an array of tools (or one tool). Any problem is one EarshotError line that names the file and
 * what is wrong, raised before a model loads.
 */
export async function loadToolsModule(file: string): Promise<Tool[]> {
  const path = resolve(file);
  const bad = (problem: string, cause?: unknown) => new EarshotError('BAD_OPTION', `tools module ${file}: ${problem}`, { cause });
  if (!existsSync(path)) throw bad('no such file; give the path of an ES module (.mjs or .js) that exports the tools');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw bad(`failed to load (${firstLine(e)})`, e);
  }
  const exported = mod.default ?? mod.tools;
  if (exported === undefined) throw bad('exports no tools; add `export default [ ...tools ]`');
  const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
  if (list.length === 0) throw bad('exports an empty list of tools');
  try {
    new ToolRegistry(list);
  } catch (e) {
    throw bad((e as Error).message, e);
  }
  return list as Tool[];
}
