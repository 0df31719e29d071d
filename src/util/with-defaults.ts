/** The entries of `options` that are not undefined: an option passed as undefined keeps its default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `defaults` overridden by every option that was given a value (undefined never replaces a default). */
export function withDefaults<T extends object>(defaults: Readonly<T>, options: Partial<T> | undefined): T {
  return { ...defaults, ...definedOnly(options ?? {}) } as T;
}
