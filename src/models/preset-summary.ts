import { formatBytes } from './disk-space.js';
import type { Manifest } from './manifest-schema.js';

function modelBytes(manifest: Manifest, id: string): number {
  return manifest.models.find((m) => m.id === id)?.files.reduce((sum, f) => sum + f.size, 0) ?? 0;
}

/** One line per preset with its models, download size and the RAM it needs, for --help. */
export function describePresets(manifest: Manifest): string[] {
  return Object.entries(manifest.presets).map(([name, preset]) => {
    const ids = Object.values(preset.models);
    const disk = ids.reduce((sum, id) => sum + modelBytes(manifest, id), 0);
    const isDefault = name === manifest.defaultPreset ? ' (default)' : '';
    return `  ${name}${isDefault}: ${ids.join(' + ')}; about ${formatBytes(disk)} disk, ${preset.ramGb} GB RAM. ${preset.label}`;
  });
}
