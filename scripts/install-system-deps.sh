#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages earshot needs to build and to run its tests (run as root, or via sudo).
#   build:  cmake, g++, make          (whisper.cpp is compiled for this CPU at npm install time)
#   voices: espeak-ng-data            (phonemizer data: Piper's published voices ship none)
#           bzip2                     (unpacks .tar.bz2 voice archives a manifest may list)
#   tests:  flite, espeak-ng, sox     (speech with known words, made on the machine)
#           pocketsphinx-testdata     (public-domain recordings with transcripts)
#           util-linux                (unshare: the no-network test runs in its own network namespace, the
#                                      disk-full tests on a tmpfs in their own mount namespace)
#           openssl                   (a self-signed certificate for the https redirect test)
#           git                       (reads the real Llama 3 tokenizer out of the llama.cpp git bundle that
#                                      node-llama-cpp ships, for the generated real-shape LLMs)
#   live:   libasound2-dev, python3   (the speaker package compiles against ALSA with node-gyp at npm install)
#           alsa-utils                (arecord: the microphone; aplay -l / arecord -l: earshot devices)
#           pulseaudio, pulseaudio-utils, libasound2-plugins
#                                     (the loopback test's sound server with null sinks, pactl/parec/pacat,
#                                      and ALSA's pulse plugin so arecord and speaker reach it)
#           procps                    (ps: the tests check that no recorder process is left behind)
#           chromium                  (the web page's test: a real browser, driven headless by playwright-core,
#                                      with a fake microphone fed from a WAV; never a downloaded browser)
set -euo pipefail
packages=(cmake g++ make espeak-ng-data bzip2 flite espeak-ng sox pocketsphinx-testdata util-linux openssl git
  libasound2-dev python3 alsa-utils pulseaudio pulseaudio-utils libasound2-plugins procps chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
