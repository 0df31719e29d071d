import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { whisperAddonPath } from '../../../src/stt/whisper-addon-path.js';

const hasNm = spawnSync('nm', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * ggml's AMX matrix kernel segfaults the whole process on some of whisper's shapes (a tiny.en-shaped model with
 * the fitted window crashed `npm run bench` on a Xeon with AMX). -march=native would compile it in on such a
 * CPU, so the build turns it off; this checks the built addon (the global setup builds it) has none of it.
 */
describe.skipIf(!hasNm)('the whisper addon as built', () => {
  it("carries no AMX matrix kernel, whatever the build machine's CPU", () => {
    const symbols = execFileSync('nm', ['-C', whisperAddonPath()], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(symbols).toContain('whisper_full');
    expect(symbols).not.toMatch(/ggml_backend_amx_mul_mat/);
  });
});
