/** Hosts that are this machine: a mirror there may speak plain http. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Why earshot will not fetch `url` (a short phrase naming it), or undefined when it may. Models come over https
 * only; plain http is allowed from a loopback address (a mirror on this machine); a redirect may not leave https
 * for http. Anything else (ftp:, file:, data:) is refused rather than handed to a client that would throw.
 */
export function checkDownloadUrl(url: string, redirectedFrom?: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `the malformed address ${JSON.stringify(url)}`;
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol !== 'http:') return `a ${u.protocol} address (${url}); models are fetched over https`;
  if (redirectedFrom !== undefined && new URL(redirectedFrom).protocol === 'https:') {
    return `plain http (${url}) from an https address`;
  }
  if (!isLoopback(u.hostname)) return `plain http (${url}); use an https address, or a mirror on this machine`;
  return undefined;
}
