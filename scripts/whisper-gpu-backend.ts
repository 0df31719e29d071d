import { existsSync, readdirSync } from 'node:fs';
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
  /** An NVIDIA GPU with its driver loaded (a toolkit alone is not a reason to build for CUDA). */
  nvidiaGpu: boolean;
  /** A GPU render node (/dev/dri/renderD*) a Vulkan driver can drive. */
  renderNode: boolean;
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
  const renderNode = existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  return {
    platform: process.platform,
    nvcc,
    vulkan: vulkanHeaders && onPath('glslc', env),
    nvidiaGpu: existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/gpus'),
    renderNode,
  };
}

const MISSING_TOOLKIT: Record<Exclude<WhisperGpuBackend, 'cpu'>, string> = {
  cuda: 'the CUDA toolkit (nvcc) was not found; install it (or set CUDA_PATH)',
  vulkan: 'the Vulkan SDK was not found (vulkan/vulkan.h and glslc); on Debian: apt-get install libvulkan-dev glslc',
  metal: 'Metal exists only on macOS',
};

/**
 * Which GPU backend to compile into whisper.cpp: the one EARSHOT_WHISPER_GPU asks for (cpu, cuda, vulkan,
 * metal), or else the one the machine can build and run — Metal on macOS, CUDA with nvcc and an NVIDIA GPU,
 * Vulkan with its SDK and a GPU render node — else the CPU. A backend that is asked for but cannot be built throws one line that says how to fix it.
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
  if (tools.nvcc && tools.nvidiaGpu) return { backend: 'cuda', reason: 'detected' };
  if (tools.vulkan && tools.renderNode) return { backend: 'vulkan', reason: 'detected' };
  return { backend: 'cpu', reason: 'detected' };
}
