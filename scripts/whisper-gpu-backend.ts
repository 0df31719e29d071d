import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const WHISPER_GPU_BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'] as const;
export type WhisperGpuBackend = (typeof WHISPER_GPU_BACKENDS)[number];

/** What the build machine offers; probed from the real system unless a test passes its own. */
export interface GpuToolchains {
  platform: NodeJS.Platform;
  /** The CUDA compiler, when installed. */
  nvcc: boolean;
  /** Vulkan headers and the glslc shader compiler ggml's Vulkan backend needs to build. */
  vulkan: boolean;
}

export interface GpuBackendChoice {
  backend: WhisperGpuBackend;
  /** 'asked' when EARSHOT_WHISPER_GPU named it, 'detected' otherwise. */
  reason: 'asked' | 'detected';
}

function onPath(tool: string, env: NodeJS.ProcessEnv): boolean {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs.some((d) => existsSync(join(d, tool)));
}

/** The toolchains this machine has, looked up on PATH and in the usual install folders. */
export function probeGpuToolchains(env: NodeJS.ProcessEnv = process.env): GpuToolchains {
  const cudaHome = env.CUDA_PATH ?? env.CUDA_HOME ?? '/usr/local/cuda';
  const nvcc = onPath('nvcc', env) || existsSync(join(cudaHome, 'bin', 'nvcc'));
  const vulkanHeaders = ['/usr/include/vulkan/vulkan.h', '/usr/local/include/vulkan/vulkan.h'].some((p) => existsSync(p)) ||
    (env.VULKAN_SDK !== undefined && existsSync(join(env.VULKAN_SDK, 'include', 'vulkan', 'vulkan.h')));
  return { platform: process.platform, nvcc, vulkan: vulkanHeaders && onPath('glslc', env) };
}

const MISSING_TOOLKIT: Record<Exclude<WhisperGpuBackend, 'cpu'>, string> = {
  cuda: 'the CUDA toolkit (nvcc) was not found; install it (or set CUDA_PATH)',
  vulkan: 'the Vulkan SDK was not found (vulkan/vulkan.h and glslc); on Debian: apt-get install libvulkan-dev glslc',
  metal: 'Metal exists only on macOS',
};

/**
 * Which GPU backend to compile into whisper.cpp: the one EARSHOT_WHISPER_GPU asks for (cpu, cuda, vulkan,
 * metal), or else the one the machine can build — Metal on macOS, CUDA when nvcc exists, Vulkan when its SDK
 * does — else the CPU. A backend that is asked for but cannot be built throws one line that says how to fix it.
 */
export function chooseWhisperGpuBackend(requested: string | undefined, tools: GpuToolchains): GpuBackendChoice {
  const asked = requested?.trim().toLowerCase();
  if (asked) {
    if (!(WHISPER_GPU_BACKENDS as readonly string[]).includes(asked)) {
      throw new Error(`EARSHOT_WHISPER_GPU=${requested} is not a backend; use one of ${WHISPER_GPU_BACKENDS.join(', ')}`);
    }
    const backend = asked as WhisperGpuBackend;
    const available =
      backend === 'cpu' || (backend === 'metal' ? tools.platform === 'darwin' : backend === 'cuda' ? tools.nvcc : tools.vulkan);
    if (!available) {
      throw new Error(
        `EARSHOT_WHISPER_GPU=${backend} cannot be built: ${MISSING_TOOLKIT[backend as Exclude<WhisperGpuBackend, 'cpu'>]}; ` +
          'or build for the CPU with EARSHOT_WHISPER_GPU=cpu',
      );
    }
    return { backend, reason: 'asked' };
  }
  if (tools.platform === 'darwin') return { backend: 'metal', reason: 'detected' };
  if (tools.nvcc) return { backend: 'cuda', reason: 'detected' };
  if (tools.vulkan) return { backend: 'vulkan', reason: 'detected' };
  return { backend: 'cpu', reason: 'detected' };
}
