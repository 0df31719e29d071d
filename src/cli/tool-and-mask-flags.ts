import { Command, Option } from 'commander';
import type { AgentOptions } from '../agent/agent-options.js';
import { defaultLatencyMaskOptions, type MaskMode } from '../reply/latency-mask-options.js';
import { loadToolsModule } from '../tools/load-tools-module.js';
import { parsePositiveInt } from './model-flags.js';

/** Flags for what the agent can do beyond talking: tools from a module, and covering a late reply. */
export interface ToolAndMaskFlags {
  tools?: string;
  mask: MaskMode;
  maskAfter?: number;
  maskPhrase?: string[];
}

export function addToolAndMaskFlags(cmd: Command, defaultMask: MaskMode): Command {
  return cmd
    .option('--tools <file>', 'ES module whose default export is an array of tools the model may call (see examples/kiosk)')
    .addOption(
      new Option('--mask <mode>', 'cover a late reply or a running tool: phrase (a short filler in the voice), earcon (a soft chime), off')
        .choices(['off', 'earcon', 'phrase'])
        .default(defaultMask),
    )
    .option('--mask-after <ms>', `ms after the end of the turn before the filler plays (default: ${defaultLatencyMaskOptions.maskAfterMs})`, parsePositiveInt)
    .option('--mask-phrase <text>', 'a filler phrase; repeat the flag for several (default: "One moment.", "Let me check.", ...)', collect);
}

/** The agent options these flags give; the tools module is loaded (and checked) here, before any model. */
export async function toolAndMaskOptions(flags: ToolAndMaskFlags): Promise<Pick<AgentOptions, 'tools' | 'latencyMask'>> {
  return {
    tools: flags.tools ? await loadToolsModule(flags.tools) : undefined,
    latencyMask: { mode: flags.mask, maskAfterMs: flags.maskAfter, phrases: flags.maskPhrase },
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
