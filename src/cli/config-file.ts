import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z, type ZodType } from 'zod';
import { EarshotError } from '../errors.js';
import { closestKey } from '../util/closest-key.js';
import { flagSchema, flagsWithKeys } from './config-flag-keys.js';

/**
 * `--config FILE`: a JSON object with a key per flag of the command (the flag's camelCase name) and the
 * sections the command takes (`agent`, `server`). A flag given on the command line wins over the file; the file
 * wins over the flag's default.
 */

/** Sections beyond the flags, by key, with their schemas. */
export type ConfigSections = Record<string, ZodType>;

/** The file's schema for `cmd`: one key per flag, one per section, nothing else. */
export function configSchema(cmd: Command, sections: ConfigSections, baseDir: string): z.ZodObject {
  const shape: Record<string, ZodType> = {};
  for (const [key, option] of flagsWithKeys(cmd)) shape[key] = flagSchema(option, baseDir).optional();
  for (const [key, schema] of Object.entries(sections)) {
    if (key in shape) throw new Error(`config section "${key}" has the name of a flag of earshot ${cmd.name()}`);
    shape[key] = schema.optional();
  }
  return z.strictObject(shape, { error: 'must be a JSON object of settings, e.g. {"voice": "en_US-amy-low"}' });
}

/** Every key the file may hold for `cmd`, in the order of --help. */
export function configKeys(cmd: Command, sections: ConfigSections): string[] {
  return Object.keys(configSchema(cmd, sections, '.').shape);
}

function badConfig(file: string, what: string): EarshotError {
  return new EarshotError('BAD_OPTION', `config file ${file}: ${what}`);
}

export function readConfigJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? String(e)})`;
    throw badConfig(file, `${why}; give --config the path of a JSON file`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badConfig(file, `is not valid JSON (${(e as Error).message}); check the quotes and commas there`);
  }
}

/** The keys the schema allows at a path of objects, for "unknown key" lines. */
function keysAt(schema: z.ZodObject, path: readonly PropertyKey[]): string[] {
  const unwrap = (t: ZodType | undefined) => (t instanceof z.ZodOptional ? (t.unwrap() as ZodType) : t);
  let at: ZodType | undefined = schema;
  for (const part of path) {
    at = unwrap(at);
    if (!(at instanceof z.ZodObject)) return [];
    at = (at.shape as Record<string, ZodType>)[String(part)];
  }
  at = unwrap(at);
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** The first problem with the file, as one line that names the key and what it takes. */
function describeIssue(cmd: Command, schema: z.ZodObject, issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const full = where ? `${where}.${key}` : key;
    if (!where) {
      const owner = cmd.parent?.commands.find((c) => c !== cmd && flagsWithKeys(c).has(key));
      if (owner) return `"${key}" is a setting of earshot ${owner.name()}, not of earshot ${cmd.name()}`;
    }
    const allowed = keysAt(schema, issue.path);
    const guess = closestKey(key, allowed);
    if (guess) return `unknown key "${full}"; did you mean "${where ? `${where}.` : ''}${guess}"?`;
    return `unknown key "${full}" (allowed: ${allowed.join(', ')})`;
  }
  if (!where) return issue.message;
  // "must ..." reads on from the key; a flag parser's own words ("expected a whole number ...") follow a colon.
  return issue.message.startsWith('must') ? `"${where}" ${issue.message}` : `"${where}": ${issue.message}`;
}

/**
 * The file's settings for `cmd`, checked: a missing, unreadable or invalid file and an unknown key or a wrong
 * value are each one line (EarshotError BAD_OPTION, exit code 2). Relative paths in it are relative to the file.
 */
export function loadConfigFile(cmd: Command, file: string, sections: ConfigSections): Record<string, unknown> {
  const raw = readConfigJson(file);
  const schema = configSchema(cmd, sections, dirname(resolve(file)));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badConfig(file, describeIssue(cmd, schema, parsed.error.issues[0]));
  return Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
}

/** Where a value came from that the file must not replace. */
const STRONGER_THAN_FILE = new Set(['cli', 'env']);

/**
 * Adds `--config <file>` to `cmd`. The file is read as soon as the flag is parsed, so a required flag it holds
 * (`earshot run`'s --input) counts as given; once the whole command line is parsed, every key whose flag was not
 * on the command line takes the file's value (source 'config'), so `--help` and errors stay commander's own.
 */
export function withConfigFile(cmd: Command, sections: ConfigSections = {}): Command {
  let settings: Record<string, unknown> | undefined;
  const apply = (onlyMissingRequired: boolean) => {
    if (!settings) return;
    const flags = flagsWithKeys(cmd);
    for (const [key, value] of Object.entries(settings)) {
      const option = flags.get(key);
      if (onlyMissingRequired && !(option?.mandatory && cmd.getOptionValue(key) === undefined)) continue;
      if (STRONGER_THAN_FILE.has(cmd.getOptionValueSource(key) ?? '')) continue;
      cmd.setOptionValueWithSource(key, value, 'config');
    }
  };
  cmd.option('--config <file>', 'read settings from a JSON file; flags on the command line override it (see README, "Config file")');
  cmd.on('option:config', (file: string) => {
    settings = loadConfigFile(cmd, file, sections);
    apply(true);
  });
  cmd.hook('preAction', () => apply(false));
  return cmd;
}
