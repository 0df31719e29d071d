/**
 * What earshot needs from the system, by platform, for the tail of one-line errors. Debian and Ubuntu on x86-64
 * are tested; the macOS names are Homebrew's, and elsewhere the line says what to put where.
 */

/** The command that installs a system part earshot needs, or what to do where there is no such command. */
export function installHint(what: 'recorder' | 'espeak-ng-data', platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux') return what === 'recorder' ? 'sudo apt-get install alsa-utils' : 'sudo apt-get install espeak-ng-data';
  if (platform === 'darwin') return what === 'recorder' ? 'brew install sox' : 'brew install espeak-ng';
  return what === 'recorder' ? 'install SoX and put sox on PATH' : 'install espeak-ng and pass --espeak-data with its espeak-ng-data folder';
}

/**
 * Where system packages put espeak-ng's phoneme data, most likely first: Debian/Ubuntu's multiarch folders
 * (package espeak-ng-data), the plain share folder (Fedora, Arch, source builds), Homebrew on Apple silicon and Intel.
 */
export function systemEspeakDataDirs(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  if (platform === 'darwin') return ['/opt/homebrew/share/espeak-ng-data', '/usr/local/share/espeak-ng-data'];
  const multiarch = arch === 'arm64' ? 'aarch64-linux-gnu' : arch === 'x64' ? 'x86_64-linux-gnu' : undefined;
  return [...(multiarch ? [`/usr/lib/${multiarch}/espeak-ng-data`] : []), '/usr/share/espeak-ng-data', '/usr/local/share/espeak-ng-data'];
}
