import { isAbsolute, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { z, type ZodType } from 'zod';
import { firstLine } from '../errors.js';

/**
 * The config-file keys of a command's flags, read from the command's own option list: every flag, including
 * one added after this was written, has a key (commander's camelCase attribute name) and a type that follows
 * from how the flag is declared. A flag of a shape this does not know throws, so a test catches it.
 */

/** How a flag's value is written in the file, from how commander declares the flag. */
export type FlagKind =
  /** `--quiet`, `--no-speculation`: true or false. */
  | 'switch'
  /** `--duplex <mode>` with choices: one of them. */
  | 'choice'
  /** `--threads <n>` with a parser: text or a number, run through the flag's own parser; a list is the flag repeated. */
  | 'parsed'
  /** `--tags <t...>`: a list of texts (or one text). */
  | 'texts'
  /** `--voice <name>`: text. */
  | 'text'
  /** `--flag [value]`: text, or true for the flag alone. */
  | 'text-or-switch';

/** Flags that only steer the CLI itself and have no key. */
const NOT_IN_FILE = new Set(['config', 'help', 'version']);

export function flagKind(option: Option): FlagKind {
  if (!option.required && !option.optional) return 'switch';
  if (option.argChoices) {
    if (option.variadic) throw new Error(`${option.flags}: a variadic flag with choices has no config-file type yet`);
    return 'choice';
  }
  if (option.variadic) {
    if (option.parseArg) throw new Error(`${option.flags}: a variadic flag with a parser has no config-file type yet`);
    return 'texts';
  }
  if (option.parseArg) return 'parsed';
  return option.optional ? 'text-or-switch' : 'text';
}

/** The flags of `cmd` that have a config key, one per key (`--foo` and `--no-foo` share one). */
export function flagsWithKeys(cmd: Command): Map<string, Option> {
  const byKey = new Map<string, Option>();
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (NOT_IN_FILE.has(key) || byKey.has(key)) continue;
    byKey.set(key, option);
  }
  return byKey;
}

/**
 * Whether the flag's value names a file or folder, from its placeholder (`<file>`, `<dir>`, `<name|dir>`,
 * `<text|@file>`): a relative path in the file is relative to the config file, not to where earshot was started
 * (a service's working directory is seldom the folder the config sits in).
 */
function pathKind(option: Option): 'path' | 'maybe-path' | 'at-path' | undefined {
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.replace(/\.\.\.$/, '');
  if (!placeholder) return undefined;
  const parts = placeholder.split('|');
  if (parts.every((p) => p === 'file' || p === 'dir')) return 'path';
  if (parts.includes('@file')) return 'at-path';
  if (parts.includes('file') || parts.includes('dir')) return 'maybe-path';
  return undefined;
}

function relativeTo(baseDir: string, option: Option, value: string): string {
  const kind = pathKind(option);
  if (kind === 'at-path' && value.startsWith('@') && !isAbsolute(value.slice(1))) return `@${resolve(baseDir, value.slice(1))}`;
  if (kind === 'path' && !isAbsolute(value)) return resolve(baseDir, value);
  // `--voice en_US-amy-low` is a name; `--voice ./voices/amy` is a folder.
  if (kind === 'maybe-path' && !isAbsolute(value) && (value.startsWith('.') || value.includes('/'))) return resolve(baseDir, value);
  return value;
}

const shown = (v: unknown) => JSON.stringify(v);

/** The schema of one flag's value in the file; values come out as the action would get them from the command line. */
export function flagSchema(option: Option, baseDir: string): ZodType {
  const kind = flagKind(option);
  switch (kind) {
    case 'switch':
      return z.boolean({ error: (i) => `must be true or false, not ${shown(i.input)}` });
    case 'choice': {
      const choices = option.argChoices!;
      return z.enum(choices as [string, ...string[]], { error: (i) => `must be one of ${choices.join(', ')}, not ${shown(i.input)}` });
    }
    case 'text':
      return z.string({ error: (i) => `must be text, not ${shown(i.input)}` }).transform((v) => relativeTo(baseDir, option, v));
    case 'text-or-switch':
      return z
        .union([z.string(), z.literal(true)], { error: (i) => `must be text or true, not ${shown(i.input)}` })
        .transform((v) => (v === true ? v : relativeTo(baseDir, option, v)));
    case 'texts':
      return z
        .union([z.string(), z.array(z.string())], { error: (i) => `must be a text or a list of texts, not ${shown(i.input)}` })
        .transform((v) => (Array.isArray(v) ? v : [v]).map((s) => relativeTo(baseDir, option, s)));
    case 'parsed':
      return parsedFlagSchema(option, baseDir);
  }
}

/**
 * A flag with its own parser (`--threads <n>`, `--mask-phrase <text>` that collects): the file's value goes
 * through the same parser as the command line, so the rules and messages are the flag's own. A list is the flag
 * given once per item, which only a collecting flag accepts.
 */
function parsedFlagSchema(option: Option, baseDir: string): ZodType {
  const scalar = z.union([z.string(), z.number()]);
  return z
    .union([scalar, z.array(scalar)], { error: (i) => `must be text or a number, not ${shown(i.input)}` })
    .transform((raw, ctx) => {
      const items = Array.isArray(raw) ? raw : [raw];
      let value: unknown = option.defaultValue;
      try {
        for (const item of items) value = option.parseArg!(relativeTo(baseDir, option, String(item)), value);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: firstLine(e).replace(/^error: /, '') });
        return z.NEVER;
      }
      if (Array.isArray(raw) && raw.length !== 1 && !Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: `takes one value, not a list` });
        return z.NEVER;
      }
      return value;
    });
}
