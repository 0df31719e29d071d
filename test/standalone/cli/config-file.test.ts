import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveAgentOptions } from '../../../src/agent/agent-options.js';
import { configKeys, withConfigFile } from '../../../src/cli/config-file.js';
import { configSectionsFor } from '../../../src/cli/config-sections.js';
import { agentOptionsFromFlags, parsePositiveInt, readSystemPrompt } from '../../../src/cli/model-flags.js';
import { runCommand } from '../../../src/cli/run-command.js';
import { serveCommand } from '../../../src/cli/serve-command.js';
import { startCommand } from '../../../src/cli/start-command.js';
import { isEarshotError } from '../../../src/errors.js';

const factories = { start: startCommand, run: runCommand, serve: serveCommand } as const;
type Name = keyof typeof factories;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-config-'));
});

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/**
 * The command as main() builds it, beside its siblings, with its action replaced by one that hands back the
 * flags it got.
 */
function command(name: Name, extend?: (cmd: Command) => void): { cmd: Command; flags: () => Promise<Record<string, unknown>> } {
  const cmd = factories[name]().exitOverride();
  extend?.(cmd);
  withConfigFile(cmd, configSectionsFor(name));
  const program = new Command('earshot');
  for (const other of Object.keys(factories) as Name[]) program.addCommand(other === name ? cmd : factories[other]());
  let got: Record<string, unknown> | undefined;
  cmd.action((flags: Record<string, unknown>) => {
    got = flags;
  });
  return { cmd, flags: async () => got! };
}

async function parse(name: Name, args: string[], extend?: (cmd: Command) => void): Promise<Record<string, unknown>> {
  const c = command(name, extend);
  await c.cmd.parseAsync(args, { from: 'user' });
  return c.flags();
}

async function configError(name: Name, content: unknown, extra: string[] = []): Promise<string> {
  const file = configFile(`bad-${name}.json`, content);
  const error: unknown = await parse(name, ['--config', file, ...extra]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEarshotError(error) && error.code === 'BAD_OPTION', String(error)).toBe(true);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message.startsWith(`config file ${file}: `)).toBe(true);
  return message.slice(`config file ${file}: `.length);
}

describe('config file keys', () => {
  it.each(Object.keys(factories) as Name[])('every flag of earshot %s has a key, named as commander names its value', (name) => {
    const cmd = factories[name]();
    const keys = configKeys(cmd, configSectionsFor(name));
    const flagKeys = cmd.options.map((o) => o.attributeName()).filter((k) => k !== 'config');
    expect(flagKeys.length).toBeGreaterThan(15);
    for (const key of flagKeys) expect(keys, `--${key} has no config key`).toContain(key);
    expect(keys).toEqual(expect.arrayContaining(['sttModel', 'llmModel', 'voice', 'espeakData', 'systemPrompt']));
  });

  it('a flag added to a command later gets its key without any other change', async () => {
    const addStatusPort = (cmd: Command) => cmd.option('--status-port <n>', 'a flag this file does not know', parsePositiveInt);
    const file = configFile('later-flag.json', { statusPort: 8099 });
    expect((await parse('serve', ['--config', file], addStatusPort)).statusPort).toBe(8099);
    expect(await configError('serve', { statusPort: 'x' }, [])).toMatch(/unknown key "statusPort"/);
  });

  it('a flag of a shape the file has no type for fails loudly instead of going without a key', () => {
    const cmd = startCommand().option('--tags <tag...>', 'texts').option('--codes <c...>', 'parsed texts', (v: string) => v);
    expect(() => configKeys(cmd, {})).toThrow(/--codes <c\.\.\.>/);
  });
});

describe('config file values', () => {
  it('fill in every kind of flag: text, choice, switch, negated switch, parsed number, repeated text', async () => {
    const file = configFile('kinds.json', {
      voice: 'en_US-amy-low',
      duplex: 'half',
      quiet: true,
      speculation: false,
      threads: 3,
      maskAfter: '900',
      maskPhrase: ['One moment.', 'Let me look.'],
      language: 'de',
    });
    const flags = await parse('start', ['--config', file]);
    expect(flags).toMatchObject({ voice: 'en_US-amy-low', duplex: 'half', quiet: true, speculation: false, threads: 3, maskAfter: 900, language: 'de' });
    expect(flags.maskPhrase).toEqual(['One moment.', 'Let me look.']);
  });

  it('a flag on the command line wins over the file, before or after --config; the file wins over defaults', async () => {
    const file = configFile('override.json', { duplex: 'half', language: 'de', threads: 3, maskPhrase: ['From the file.'], gpu: 'off' });
    const flags = await parse('start', ['--duplex', 'full', '--config', file, '--threads', '1', '--mask-phrase', 'From the flag.']);
    expect(flags.duplex).toBe('full');
    expect(flags.threads).toBe(1);
    // A repeatable flag given on the command line replaces the file's list instead of adding to it.
    expect(flags.maskPhrase).toEqual(['From the flag.']);
    expect(flags.language).toBe('de');
    expect(flags.gpu).toBe('off');
    const defaults = await parse('start', []);
    expect(defaults.duplex).toBe('aec');
    expect(defaults.language).toBe('en');
  });

  it("earshot run's required --input may come from the file", async () => {
    const file = configFile('run-input.json', { input: 'question.wav' });
    expect((await parse('run', ['--config', file])).input).toBe(join(dir, 'question.wav'));
    expect((await parse('run', ['--config', file, '--input', '/elsewhere/q.wav'])).input).toBe('/elsewhere/q.wav');
  });

  it('relative paths are relative to the config file; names and absolute paths stay as they are', async () => {
    const file = configFile('paths.json', {
      sttModel: 'models/stt.bin',
      voice: 'en_US-amy-low',
      tools: './tools.mjs',
      systemPrompt: '@prompt.txt',
      espeakData: '/usr/share/espeak-ng-data',
    });
    const flags = await parse('start', ['--config', file]);
    expect(flags).toMatchObject({
      sttModel: join(dir, 'models/stt.bin'),
      voice: 'en_US-amy-low',
      tools: join(dir, 'tools.mjs'),
      systemPrompt: `@${join(dir, 'prompt.txt')}`,
      espeakData: '/usr/share/espeak-ng-data',
    });
    const voiceDir = await parse('start', ['--config', configFile('voice-dir.json', { voice: 'voices/amy' })]);
    expect(voiceDir.voice).toBe(join(dir, 'voices/amy'));
  });

  it('the agent section and the flags reach the agent options together', async () => {
    const file = configFile('agent.json', {
      sttModel: '/m/stt.bin',
      llmModel: '/m/llm.gguf',
      voice: '/m/voice',
      turn: 'silence',
      speculation: false,
      agent: {
        endpointing: { endSilenceMs: 800, minSpeechMs: 150 },
        interruption: { stopPhrases: ['halt'], backchannels: ['aha'], confirmSpeechMs: 500 },
        turnEnd: { incompleteSilenceMs: 2500 },
        speculation: { afterMs: 250 },
        echoCanceller: { tailMs: 128 },
        partialTranscripts: { enabled: false },
        toolCalls: { timeoutMs: 2000 },
        maxHistoryMessages: 12,
      },
    });
    const flags = await parse('start', ['--config', file]);
    const shared = agentOptionsFromFlags(flags as never, () => {});
    const r = resolveAgentOptions({ ...shared, interruption: { ...shared.interruption, duplex: 'gate' } }, 2);
    expect(shared.models).toMatchObject({ stt: '/m/stt.bin', llm: '/m/llm.gguf', voice: '/m/voice', turn: undefined });
    expect(r.endpointing).toMatchObject({ endSilenceMs: 800, minSpeechMs: 150, speechThreshold: 0.5 });
    expect(r.interruption).toMatchObject({ stopPhrases: ['halt'], backchannels: ['aha'], confirmSpeechMs: 500, duplex: 'gate', enabled: true });
    expect(r.turnEnd).toMatchObject({ mode: 'silence', incompleteSilenceMs: 2500, checkAfterMs: 200 });
    // The flag's switch and the section's timing meet in one option group.
    expect(r.speculation).toEqual({ enabled: false, afterMs: 250 });
    expect(r.echoCanceller.tailMs).toBe(128);
    expect(r.partialTranscripts.enabled).toBe(false);
    expect(r.toolCalls.timeoutMs).toBe(2000);
    expect(r.maxHistoryMessages).toBe(12);
  });

  it("earshot serve takes a server section for the limits that have no flag", async () => {
    const file = configFile('serve.json', { port: 9000, maxSessions: 1, server: { audioLeadMs: 150, maxMessageBytes: 65536 } });
    const flags = await parse('serve', ['--config', file]);
    expect(flags).toMatchObject({ port: 9000, maxSessions: 1, server: { audioLeadMs: 150, maxMessageBytes: 65536 } });
  });
});

describe('the example kiosk config', () => {
  it('is valid for earshot start, and its files are found beside it', async () => {
    const example = join(process.cwd(), 'examples', 'kiosk');
    const flags = await parse('start', ['--config', join(example, 'kiosk.json')]);
    expect(flags).toMatchObject({ tools: join(example, 'tools.mjs'), systemPrompt: `@${join(example, 'system-prompt.txt')}`, json: true });
    expect(readSystemPrompt(flags.systemPrompt as string)).toMatch(/City Museum/);
  });
});

describe('config file errors: one line naming the key and what it takes', () => {
  it('an unknown key suggests the closest one', async () => {
    expect(await configError('start', { sttModle: 'x.bin' })).toBe('unknown key "sttModle"; did you mean "sttModel"?');
    expect(await configError('start', { 'stt-model': 'x.bin' })).toBe('unknown key "stt-model"; did you mean "sttModel"?');
    expect(await configError('start', { agent: { interruption: { stopPhrase: ['halt'] } } })).toBe(
      'unknown key "agent.interruption.stopPhrase"; did you mean "agent.interruption.stopPhrases"?',
    );
  });

  it('an unknown key with nothing close lists the allowed keys', async () => {
    const message = await configError('run', { kioskMode: true });
    expect(message).toMatch(/^unknown key "kioskMode" \(allowed: input, output, outputDir, metricsJson, .*sttModel, .*agent\)$/);
  });

  it("a key of another command says which", async () => {
    expect(await configError('start', { port: 8080 })).toBe('"port" is a setting of earshot serve, not of earshot start');
  });

  it('a flag owned by a flag is not also a key of a section', async () => {
    expect(await configError('start', { agent: { interruption: { duplex: 'full' } } })).toMatch(/^unknown key "agent\.interruption\.duplex"/);
  });

  it('a wrong type names the key and what it takes', async () => {
    expect(await configError('start', { duplex: 'loud' })).toBe('"duplex" must be one of full, aec, gate, half, not "loud"');
    expect(await configError('start', { quiet: 'yes' })).toBe('"quiet" must be true or false, not "yes"');
    expect(await configError('start', { voice: 7 })).toBe('"voice" must be text, not 7');
    expect(await configError('start', { threads: 0 })).toBe('"threads": expected a whole number of 1 or more, got "0"');
    expect(await configError('start', { threads: [1, 2] })).toBe('"threads": takes one value, not a list');
    expect(await configError('start', { agent: { endpointing: { endSilenceMs: '800' } } })).toBe(
      '"agent.endpointing.endSilenceMs" must be a number, not "800"',
    );
    expect(await configError('start', { agent: { endpointing: { endSilenceMs: -1 } } })).toBe('"agent.endpointing.endSilenceMs" must be 0 or more');
    expect(await configError('start', { agent: { interruption: { stopPhrases: 'halt' } } })).toBe(
      '"agent.interruption.stopPhrases" must be a list of texts, not "halt"',
    );
  });

  it('a file that is not a JSON object, not JSON, or not there', async () => {
    expect(await configError('start', [1, 2])).toMatch(/^must be a JSON object of settings/);
    expect(await configError('start', '{"voice": "en_US-amy-low",}')).toMatch(/^is not valid JSON \(.+\); check the quotes and commas there$/);
    const missing = join(dir, 'nope.json');
    const error = await parse('start', ['--config', missing]).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(`config file ${missing}: does not exist; give --config the path of a JSON file`);
  });
});
