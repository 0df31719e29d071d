/**
 * The one spelling of a path inside a model folder: '/'-separated, relative, no '.', '..' or empty parts. Returns
 * undefined for anything that could name a place outside the folder (an absolute path, a drive letter, a '..'
 * part, a backslash, a NUL) or names no file at all, so that a source's `./x` cannot dodge a lookup keyed on `x`.
 */
export function normalizeModelPath(path: string): string | undefined {
  if (path.includes('\\') || path.includes('\0') || path.startsWith('/') || /^[A-Za-z]:/.test(path)) return undefined;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}
