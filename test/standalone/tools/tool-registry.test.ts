import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadToolsModule } from '../../../src/tools/load-tools-module.js';
import { defineTool } from '../../../src/tools/tool.js';
import { ToolRegistry } from '../../../src/tools/tool-registry.js';

const hours = defineTool({
  name: 'opening_hours',
  description: 'Opening hours on a day.',
  parameters: z.object({ day: z.string() }),
  handler: ({ day }) => `${day}: 10 to 6`,
});

describe('ToolRegistry', () => {
  it('holds checked tools by name, with their schemas compiled', () => {
    const noArgs = { name: 'ping', description: 'Is anyone there?', handler: () => 'pong' };
    const r = new ToolRegistry([hours, noArgs]);
    expect(r.names).toEqual(['opening_hours', 'ping']);
    expect(r.get('opening_hours')!.schema!.grammar).toMatchObject({ type: 'object', required: ['day'] });
    expect(r.get('ping')!.schema).toBeUndefined();
    expect(r.get('nope')).toBeUndefined();
  });

  it('says in one line what is wrong with a bad tool', () => {
    const bad = (tools: unknown[]) => () => new ToolRegistry(tools);
    expect(bad([hours, hours])).toThrow('two tools are named "opening_hours"');
    expect(bad([{ ...hours, name: 'opening hours' }])).toThrow('tool 1 ("opening hours") is not a tool: its name must be');
    expect(bad([hours, { ...hours, name: 'x', handler: 'nope' }])).toThrow('tool 2 ("x") is not a tool: its handler is not a function');
    expect(bad([{ ...hours, description: '' }])).toThrow('needs a description');
    expect(bad([42])).toThrow('tool 1 is not a tool: expected an object');
    expect(bad([{ ...hours, parameters: { type: 'string' } }])).toThrow('tool "opening_hours": its parameters must describe an object');
    expect(bad([{ ...hours, timeoutMs: -1 }])).toThrow('timeoutMs');
  });
});

describe('loadToolsModule', () => {
  let dir: string;
  const module = async (name: string, source: string) => {
    const path = join(dir, name);
    await writeFile(path, source);
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-tools-'));
  });

  it('loads the default export, or an export named tools, or a single tool', async () => {
    const tool = `{ name: 'ping', description: 'Ping.', handler: () => 'pong' }`;
    for (const [name, source] of [
      ['default.mjs', `export default [${tool}];`],
      ['named.mjs', `export const tools = [${tool}];`],
      ['single.mjs', `export default ${tool};`],
    ]) {
      const tools = await loadToolsModule(await module(name, source));
      expect(tools.map((t) => t.name)).toEqual(['ping']);
    }
  });

  it('loads the kiosk example', async () => {
    const tools = await loadToolsModule('examples/kiosk/tools.mjs');
    expect(tools.map((t) => t.name)).toEqual(['opening_hours', 'directions', 'call_staff']);
  });

  it('names the file and the problem in one line', async () => {
    const fails = async (name: string, source: string | undefined, message: string) => {
      const path = source === undefined ? join(dir, name) : await module(name, source);
      const error = await loadToolsModule(path).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toContain(`tools module ${path}: ${message}`);
      expect(error?.message).not.toContain('\n');
    };
    await fails('missing.mjs', undefined, 'no such file');
    await fails('throws.mjs', `throw new Error('no database\\nat line 2');`, 'failed to load (no database)');
    await fails('syntax.mjs', `export default [`, 'failed to load (');
    await fails('nothing.mjs', `export const x = 1;`, 'exports no tools');
    await fails('empty.mjs', `export default [];`, 'exports an empty list of tools');
    await fails('not-a-tool.mjs', `export default [{ name: 'a', description: 'A.', handler: () => 1 }, 'hello'];`, 'tool 2 is not a tool');
    await fails(
      'twice.mjs',
      `const t = { name: 'a', description: 'A.', handler: () => 1 }; export default [t, { ...t }];`,
      'two tools are named "a"',
    );
  });
});
