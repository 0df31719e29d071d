import { defineConfig } from 'vitest/config';

/** The pure core (scripted engines, fake clocks) and the CLI's option handling: no native code, so files run side by side in threads. */
const unit = ['test/standalone/turn/**/*.test.ts', 'test/standalone/reply/**/*.test.ts', 'test/standalone/agent/**/*.test.ts', 'test/standalone/util/**/*.test.ts', 'test/standalone/cli/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: unit, pool: 'threads' },
      },
      {
        test: {
          name: 'engines',
          include: ['test/**/*.test.ts'],
          exclude: unit,
          globalSetup: ['test/global-setup.ts'],
          // Native engines (whisper.cpp, llama.cpp, ONNX Runtime) are safest in child processes, and on a 2-core
          // machine files running side by side only fight over the same cores.
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
