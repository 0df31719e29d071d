import { expect } from 'vitest';
import type { CliResult } from './run-cli.js';

/** A user-caused failure: exactly one line on stderr, no stack trace, a non-zero exit, not a signal. */
export function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
