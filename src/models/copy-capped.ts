import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EarshotError } from '../errors.js';

/** Copies `from` to a new file `to`, refusing to write more than `maxBytes` even if the source grows meanwhile. */
export async function copyCapped(from: string, to: string, maxBytes: number, signal?: AbortSignal): Promise<void> {
  let copied = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      copied += chunk.length;
      if (copied > maxBytes) done(new EarshotError('VERIFY_FAILED', `${from} grew past ${maxBytes} bytes while being copied; nothing was installed.`));
      else done(null, chunk);
    },
  });
  await pipeline(createReadStream(from), cap, createWriteStream(to, { flags: 'wx' }), { signal });
}
