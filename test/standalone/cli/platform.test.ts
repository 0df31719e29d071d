import { describe, expect, it } from 'vitest';
import { checkOutputDeviceFlag, unnamedDevicesNote } from '../../../src/audio/devices/platform-devices.js';
import { missingToolHint } from '../../../src/audio/devices/capture-tool.js';
import { isEarshotError } from '../../../src/errors.js';
import { installHint, systemEspeakDataDirs } from '../../../src/util/platform-hints.js';

describe('what earshot asks of the system, by platform', () => {
  it('names the install command of each platform', () => {
    expect(installHint('recorder', 'linux')).toBe('sudo apt-get install alsa-utils');
    expect(installHint('recorder', 'darwin')).toBe('brew install sox');
    expect(installHint('espeak-ng-data', 'darwin')).toBe('brew install espeak-ng');
    expect(installHint('recorder', 'win32')).toMatch(/SoX/);
    expect(missingToolHint('auto')).toContain(installHint('recorder'));
  });

  it("looks for espeak-ng-data where each platform's packages put it", () => {
    expect(systemEspeakDataDirs('linux', 'x64')[0]).toBe('/usr/lib/x86_64-linux-gnu/espeak-ng-data');
    expect(systemEspeakDataDirs('linux', 'arm64')[0]).toBe('/usr/lib/aarch64-linux-gnu/espeak-ng-data');
    expect(systemEspeakDataDirs('darwin', 'arm64')).toContain('/opt/homebrew/share/espeak-ng-data');
  });

  it('--output-device is refused in one line where the speaker cannot choose a device, and passes on Linux', () => {
    expect(() => checkOutputDeviceFlag('pulse:kiosk', 'linux')).not.toThrow();
    expect(() => checkOutputDeviceFlag(undefined, 'darwin')).not.toThrow();
    let error: unknown;
    try {
      checkOutputDeviceFlag('Built-in Output', 'darwin');
    } catch (e) {
      error = e;
    }
    expect(isEarshotError(error) && error.code === 'BAD_OPTION').toBe(true);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toMatch(/only on Linux; .*default output/);
    expect(unnamedDevicesNote('darwin')).toMatch(/on macOS it records the default microphone with sox/);
  });
});
