import { z, type ZodType } from 'zod';
import { defaultAgentOptions, type AgentOptions } from '../agent/agent-options.js';
import { defaultServeOptions, type ServeOptions } from '../server/serve-options.js';
import type { ConfigSections } from './config-file.js';

/**
 * The config-file sections for what has no flag: `agent` (turn-taking, interruption, echo handling,
 * speculation, history; the same names and units as createAgent()'s options) and `server` (earshot serve's
 * limits). Each section's keys and types are read from the options' documented defaults, so an option added
 * there is a key here too. Parts a flag already sets are left out, so one setting never has two keys.
 */

/** Agent option groups in the file, and the members a flag owns instead. */
const AGENT_GROUPS = {
  endpointing: [],
  interruption: ['enabled', 'duplex'], // --duplex; `enabled` is the command's own choice (off for a file)
  turnEnd: ['mode'], // --turn
  speculation: ['enabled'], // --no-speculation
  echoGate: [],
  echoCanceller: [],
  partialTranscripts: [],
  transcriptFilter: [],
  toolCalls: [],
} as const satisfies Partial<Record<keyof AgentOptions, readonly string[]>>;

/** Plain agent options in the file. */
const AGENT_SCALARS = ['maxHistoryMessages', 'maxReplyTokens'] as const satisfies readonly (keyof AgentOptions)[];

/** ServeOptions a flag of earshot serve sets (--host, --port, --token, --max-sessions, --idle-timeout). */
const SERVER_FLAGGED = ['host', 'port', 'token', 'maxSessions', 'idleTimeoutMs'] as const satisfies readonly (keyof ServeOptions)[];

type AgentGroup = keyof typeof AGENT_GROUPS;

/** The agent options a config file may set. */
export type AgentSection = { [G in AgentGroup]?: Partial<NonNullable<AgentOptions[G]>> } & Partial<
  Pick<AgentOptions, (typeof AGENT_SCALARS)[number]>
>;
export type ServerSection = Partial<Omit<ServeOptions, (typeof SERVER_FLAGGED)[number]>>;

const shown = (v: unknown) => JSON.stringify(v);

/** A value's schema from its default: the file must give the same kind of value. */
function schemaLike(example: unknown, what: string): ZodType {
  if (typeof example === 'number') {
    return z.number({ error: (i) => `must be a number, not ${shown(i.input)}` }).min(0, { error: 'must be 0 or more' });
  }
  if (typeof example === 'boolean') return z.boolean({ error: (i) => `must be true or false, not ${shown(i.input)}` });
  if (typeof example === 'string') return z.string({ error: (i) => `must be text, not ${shown(i.input)}` });
  if (Array.isArray(example) && example.every((e) => typeof e === 'string')) {
    return z.array(z.string(), { error: (i) => `must be a list of texts, not ${shown(i.input)}` });
  }
  throw new Error(`${what}: its default ${shown(example)} has no config-file type yet`);
}

function sectionOf(defaults: object, skip: readonly string[], what: string): z.ZodObject {
  const shape: Record<string, ZodType> = {};
  for (const [key, value] of Object.entries(defaults)) {
    if (!skip.includes(key)) shape[key] = schemaLike(value, `${what}.${key}`).optional();
  }
  return z.strictObject(shape, { error: (i) => `must be an object of settings, not ${shown(i.input)}` });
}

export function agentSectionSchema(): z.ZodObject {
  const shape: Record<string, ZodType> = {};
  for (const [group, skip] of Object.entries(AGENT_GROUPS)) {
    shape[group] = sectionOf(defaultAgentOptions[group as AgentGroup], skip, `agent.${group}`).optional();
  }
  for (const key of AGENT_SCALARS) shape[key] = schemaLike(defaultAgentOptions[key], `agent.${key}`).optional();
  return z.strictObject(shape, { error: (i) => `must be an object of settings, not ${shown(i.input)}` });
}

export function serverSectionSchema(): z.ZodObject {
  return sectionOf(defaultServeOptions, SERVER_FLAGGED, 'server');
}

/** The agent options the section gives, merged under what the flags set (`fromFlags` wins member by member). */
export function withAgentSection<T extends Partial<AgentOptions>>(fromFlags: T, section: AgentSection | undefined): T {
  if (!section) return fromFlags;
  const merged: Record<string, unknown> = { ...fromFlags };
  for (const [key, fromFile] of Object.entries(section)) {
    const fromFlag = merged[key];
    if (fromFlag === undefined) merged[key] = fromFile;
    else if (key in AGENT_GROUPS) merged[key] = { ...(fromFile as object), ...(fromFlag as object) };
  }
  return merged as T;
}

/** The sections a command's config file takes: `agent` for every command that runs the agent, `server` for serve. */
export function configSectionsFor(command: 'start' | 'run' | 'serve'): ConfigSections {
  const agent = { agent: agentSectionSchema() };
  return command === 'serve' ? { ...agent, server: serverSectionSchema() } : agent;
}
