import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/agent.js';
import { concatFloat32 } from '../../../src/audio/pcm.js';
import { showsContent } from '../../../src/cli/privacy-flags.js';
import { withoutContent } from '../../../src/cli/serve-log.js';
import { TerminalView } from '../../../src/cli/terminal-view.js';
import type { ServerMessage } from '../../../src/server/protocol.js';
import { ScriptedLlm, ScriptedStt, ScriptedVad, ToneTts, silence, tone } from '../../support/fake-engines.js';
import { runCli } from '../../support/run-cli.js';
import { expectOneLineError } from '../../support/one-line-error.js';

const QUESTION = 'Is the Vermeer room open?';
const REPLY = 'Yes, until six tonight.';
const TYPED_WORDS = 'Vermeer-room-key';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

/** A conversation of one spoken and one typed turn, shown by a view with or without content. */
async function shown(mode: 'json' | 'plain', content: boolean): Promise<string> {
  const agent = new Agent(
    { vad: new ScriptedVad(), stt: new ScriptedStt([QUESTION]), llm: new ScriptedLlm([REPLY], { tokenMs: 0 }), tts: new ToneTts() },
    { speculation: { enabled: false } },
  );
  const out = capture();
  const status = capture();
  new TerminalView({ mode, out: out.stream, status: status.stream, content }).attachAgent(agent);
  agent.start();
  agent.pushAudio(concatFloat32([silence(200), tone(800), silence(1000)]), 16_000);
  await agent.flush();
  await agent.sendText(`${QUESTION} ${TYPED_WORDS}`);
  await agent.close();
  return out.text() + status.text();
}

describe('what the terminal view prints', () => {
  it('--json without --log-content: every turn\'s events and metrics, none of the words', async () => {
    const text = await shown('json', false);
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as { event: string; turn?: number });
    expect(events.filter((e) => e.event === 'metrics').map((e) => e.turn)).toEqual([1, 2]);
    expect(events.filter((e) => e.event === 'transcript')).toEqual([{ event: 'transcript', turn: 1 }, { event: 'transcript', turn: 2 }]);
    expect(events.filter((e) => e.event === 'turn-end')).toEqual([
      { event: 'turn-end', turn: 1, interrupted: false },
      { event: 'turn-end', turn: 2, interrupted: false },
    ]);
    for (const words of ['Vermeer', 'until six', TYPED_WORDS]) expect(text).not.toContain(words);
  });

  it('--json with --log-content: the words are there (so the check above can see them)', async () => {
    const text = await shown('json', true);
    for (const words of [QUESTION, REPLY, TYPED_WORDS]) expect(text).toContain(words);
  });

  it('a pipe (plain) without content: latency lines only; with content the conversation', async () => {
    const without = await shown('plain', false);
    expect(without.match(/latency ms:/g)).toHaveLength(2);
    expect(without).not.toContain('Vermeer');
    expect(without).not.toContain('until six');
    const withContent = await shown('plain', true);
    expect(withContent).toContain(`you: ${QUESTION}`);
    expect(withContent).toContain(`earshot: ${REPLY}`);
  });
});

describe('what serve logs', () => {
  it('takes every word out of the protocol messages, keeping turns and times', () => {
    const messages: ServerMessage[] = [
      { type: 'partial-transcript', text: QUESTION },
      { type: 'transcript', turn: 1, text: QUESTION },
      { type: 'reply-delta', turn: 1, delta: REPLY },
      { type: 'sentence-start', turn: 1, text: REPLY, durationMs: 900 },
      { type: 'sentence-end', turn: 1, text: REPLY, heardMs: 900, interrupted: false },
      { type: 'turn-end', turn: 1, transcript: QUESTION, reply: REPLY, spoken: REPLY, interrupted: false },
      { type: 'metrics', turn: 1, interrupted: false, ms: { endpoint: 500, transcript: 600, total: 900 }, compute: { stt: 100 } },
      { type: 'forgotten', reason: 'idle' },
      { type: 'tool-call', turn: 2, name: 'directions', args: { to: 'Vermeer room' } },
      { type: 'tool-result', turn: 2, name: 'directions', status: 'ok', ms: 3 },
    ];
    const logged = messages.map(withoutContent).filter((m) => m !== undefined);
    expect(JSON.stringify(logged)).not.toMatch(/Vermeer|until six/);
    expect(logged.map((m) => m!.type)).toEqual(['transcript', 'sentence-start', 'sentence-end', 'turn-end', 'metrics', 'forgotten', 'tool-call', 'tool-result']);
  });
});

describe('showsContent', () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  const pipe = new PassThrough();
  it('shows the words on a terminal, never in JSON or a pipe unless --log-content', () => {
    expect(showsContent({}, tty)).toBe(true);
    expect(showsContent({}, pipe)).toBe(false);
    expect(showsContent({ json: true }, tty)).toBe(false);
    expect(showsContent({ logContent: true, json: true }, pipe)).toBe(true);
  });
});

describe('the flags', () => {
  it('--idle-reset takes seconds; a bad value is one line, before anything loads', async () => {
    expectOneLineError(await runCli(['start', '--idle-reset', 'soon']), /^earshot: --idle-reset takes seconds, 0 or more \(0: never\), got "soon"$/);
    expectOneLineError(await runCli(['serve', '--idle-reset', '-5']), /--idle-reset takes seconds/);
  });

  it('--help names the idle reset\'s default, the greeting and --log-content', async () => {
    for (const command of ['start', 'serve']) {
      const help = (await runCli([command, '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toMatch(/--idle-reset <seconds> .*\(default: 60\)/);
      expect(help).toContain('--greeting <text>');
      expect(help).toContain('--log-content');
    }
    expect((await runCli(['run', '--help'])).stdout).toContain('--log-content');
  });
});
