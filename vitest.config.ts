import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Native engines (whisper.cpp, llama.cpp, ONNX Runtime) are safest in child processes, and on a 2-core
    // machine files running side by side only fight over the same cores.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
