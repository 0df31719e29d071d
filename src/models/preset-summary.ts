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

/**
 * One line for a first run with models missing: every model of the preset that is not installed, what they
 * weigh together, and the one command that gets them all (it skips what is already there).
 */
export function missingPresetLine(manifest: Manifest, preset: string, missingIds: readonly string[]): string {
  const named = missingIds.map((id) => {
    const role = manifest.models.find((m) => m.id === id)?.role;
    return `${role === 'tts' ? 'voice' : role} ${id}`;
  });
  const bytes = missingIds.reduce((sum, id) => sum + modelBytes(manifest, id), 0);
  const command = preset === manifest.defaultPreset ? 'npm run fetch-models' : `npm run fetch-models -- --preset ${preset}`;
  return `models of the ${preset} preset are not installed (${named.join(', ')}; ${formatBytes(bytes)}): run ${command}`;
}
