/** A non-negative number from the environment variable `name`, or `fallback` when it is unset or not one. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}
