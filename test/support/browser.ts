import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium (scripts/install-system-deps.sh); never a browser that a test tool downloads. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why a real browser cannot run here, or undefined when it can. */
export function browserUnavailable(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `Chromium is not installed (${CHROMIUM}; run scripts/install-system-deps.sh)`;
}

export interface FakeMicBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium whose microphone plays `wav` once from the moment a page opens it (getUserMedia), then
 * silence. It talks to nothing but the pages it is sent to: no background networking, no updates, no sync.
 */
export async function launchWithFakeMicrophone(wav: string): Promise<FakeMicBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'earshot-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      // Root in a container: Chromium's sandbox needs user namespaces it does not get here.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
