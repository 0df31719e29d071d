import { PassThrough } from 'node:stream';
import { fetchModelsCommand } from '../../src/cli/fetch-models.js';

export interface FetchModelsResult {
  code: number;
  out: string;
  err: string;
  /** The last line on stderr: the one-line outcome of a failed run. */
  lastLine: string;
}

/** Runs fetch-models in this process with a given manifest, collecting what it prints. */
export async function runFetchModels(args: string[], manifestPath: string): Promise<FetchModelsResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await fetchModelsCommand([...args, '--manifest', manifestPath], { stdout, stderr });
  return { code, out, err, lastLine: err.trim().split('\n').at(-1) ?? '' };
}
