import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseWhisperGpuBackend, probeGpuToolchains, type GpuToolchains } from '../../../scripts/whisper-gpu-backend.js';

const none: GpuToolchains = { platform: 'linux', nvcc: false, vulkan: false, nvidiaGpu: false, renderNode: false };

describe('whisper GPU backend selection', () => {
  it('detects Metal on macOS, CUDA or Vulkan only with both a toolkit and a GPU, else the CPU', () => {
    expect(chooseWhisperGpuBackend(undefined, { ...none, platform: 'darwin' })).toEqual({ backend: 'metal', reason: 'detected' });
    expect(chooseWhisperGpuBackend(undefined, { ...none, nvcc: true, nvidiaGpu: true }).backend).toBe('cuda');
    expect(chooseWhisperGpuBackend(undefined, { ...none, nvcc: true }).backend).toBe('cpu');
    expect(chooseWhisperGpuBackend(undefined, { ...none, vulkan: true, renderNode: true }).backend).toBe('vulkan');
    expect(chooseWhisperGpuBackend(undefined, none)).toEqual({ backend: 'cpu', reason: 'detected' });
    expect(chooseWhisperGpuBackend('', { ...none, nvcc: true, nvidiaGpu: true }).backend).toBe('cuda');
  });

  it('builds what EARSHOT_WHISPER_GPU asks for when its toolkit is there, with or without a GPU', () => {
    expect(chooseWhisperGpuBackend('CUDA', { ...none, nvcc: true })).toEqual({ backend: 'cuda', reason: 'asked' });
    expect(chooseWhisperGpuBackend('cpu', { ...none, platform: 'darwin' })).toEqual({ backend: 'cpu', reason: 'asked' });
    expect(chooseWhisperGpuBackend('vulkan', { ...none, vulkan: true }).backend).toBe('vulkan');
  });

  it('refuses a backend whose toolkit is missing, or an unknown name, in one line that says what to do', () => {
    expect(() => chooseWhisperGpuBackend('cuda', none)).toThrow(/^EARSHOT_WHISPER_GPU=cuda cannot be built: the CUDA toolkit \(nvcc\) was not found.*EARSHOT_WHISPER_GPU=cpu$/);
    expect(() => chooseWhisperGpuBackend('vulkan', none)).toThrow(/Vulkan SDK was not found.*apt-get install libvulkan-dev glslc/);
    expect(() => chooseWhisperGpuBackend('metal', none)).toThrow(/Metal exists only on macOS/);
    expect(() => chooseWhisperGpuBackend('opencl', none)).toThrow(/^EARSHOT_WHISPER_GPU=opencl is not a backend; use one of cpu, cuda, vulkan, metal$/);
  });

  it('npm run build:native with a GPU this machine cannot build stops before compiling, with one line', () => {
    const tools = probeGpuToolchains();
    const missing = !tools.vulkan ? 'vulkan' : process.platform !== 'darwin' ? 'metal' : undefined;
    if (!missing) return console.log('skipped: this machine can build every GPU backend asked for here');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-whisper-addon.ts'], {
      env: { ...process.env, EARSHOT_WHISPER_GPU: missing },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[whisper-addon\\] build failed: EARSHOT_WHISPER_GPU=${missing} cannot be built: `));
  });
});
