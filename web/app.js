// @ts-check
import { AudioIO } from './audio-io.js';
import { Captions } from './captions.js';
import { Connection } from './connection.js';

/** @typedef {import('../src/server/protocol.js').ServerMessage} ServerMessage */
/** @typedef {import('../src/server/protocol.js').ListenMode} ListenMode */
/** @typedef {import('./audio-io.js').CaptureBlock} CaptureBlock */
/** @typedef {import('./audio-io.js').PlaybackEvent} PlaybackEvent */

/**
 * What the page knows of one turn, in audio-clock seconds: when the user's question ended (the last audible
 * input block before the server declared the end of speech; for a typed turn, when it was sent), and when the
 * reply's first sample and first audible sample left the playback worklet.
 * The page also notes when the server's word that the speech ended reached it.
 * @typedef {{ turn: number, questionEndAt?: number, speechEndHeardAt?: number, firstSampleAt?: number, firstAudibleAt?: number, serverFirstAudioMs?: number }} TurnTiming
 */

const AUDIBLE = 0.02;
const METER_FLOOR_DB = -60;
const STATE_LABELS = /** @type {const} */ ({
  idle: 'not listening',
  listening: 'listening',
  'user-speaking': 'hearing you',
  thinking: 'thinking',
  speaking: 'speaking',
});

const params = new URLSearchParams(location.search);
const $ = /** @param {string} id */ (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const root = $('app');
const stateLabel = $('state-label');
const meterFill = $('meter-fill');
const listenButton = /** @type {HTMLButtonElement} */ ($('listen'));
const talkButton = /** @type {HTMLButtonElement} */ ($('talk'));
const interruptButton = /** @type {HTMLButtonElement} */ ($('interrupt'));
const textForm = /** @type {HTMLFormElement} */ ($('text-form'));
const textInput = /** @type {HTMLInputElement} */ ($('text'));
const latencyList = $('latency');
const notice = $('notice');
const overlay = $('overlay');
const captions = new Captions($('captions'));

/** @type {ListenMode} */
let mode = 'hands-free';
let listening = false;
let pttHeld = false;
let waitingForPerson = false;
/** Turns whose audio the user cut here: their frames still in flight are dropped, not played. */
const droppedTurns = new Set();
let latestTurn = 0;
let lastAudibleInputAt = 0;
/** @type {number | undefined} */
let pendingQuestionEnd;
/** @type {number | undefined} */
let pendingSpeechEndHeard;
/** @type {Map<number, TurnTiming>} */
const timings = new Map();
/** @type {{ clickedAt: number, clearedAt?: number }[]} */
const interrupts = [];
let levelDb = METER_FLOOR_DB;
/** @type {(rate: number) => void} */
let resolveVoiceRate = () => undefined;
/** @type {Promise<number>} The voice's sample rate, from the first greeting. */
const voiceRate = new Promise((resolve) => (resolveVoiceRate = resolve));

const audio = new AudioIO({ capture: onCapture, playback: onPlayback });
const connection = new Connection(params.get('token') ?? '', {
  message: onMessage,
  audio: ({ samples, sampleRate, turn }) => {
    if (!droppedTurns.has(turn)) audio.play(samples, sampleRate, turn);
  },
  status: onConnectionStatus,
});

/** Read-only view for diagnostics (devtools) and the browser test. */
Object.defineProperty(window, 'earshot', {
  value: Object.freeze({
    get state() {
      return root.dataset.state;
    },
    get mode() {
      return mode;
    },
    outputStats: () => audio.stats(),
    audioTime: () => audio.now(),
    lastAudibleInputAt: () => lastAudibleInputAt,
    timings: () => [...timings.values()].map((t) => ({ ...t })),
    interrupts: () => interrupts.map((i) => ({ ...i })),
  }),
});

function setState(/** @type {string} */ state, /** @type {string} */ label) {
  root.dataset.state = state;
  stateLabel.textContent = label;
}

function showNotice(/** @type {string} */ text) {
  notice.textContent = text;
  notice.hidden = text === '';
}

function onConnectionStatus(/** @type {string} */ status, /** @type {string} */ detail) {
  if (status === 'open') {
    showNotice('');
    return;
  }
  waitingForPerson = status === 'busy' || status === 'idle';
  if (status === 'connecting') setState('connecting', 'connecting…');
  else if (status === 'busy') setState('busy', 'busy');
  else if (status === 'idle') setState('disconnected', 'asleep');
  else setState('disconnected', 'reconnecting…');
  if (status === 'busy') showNotice('Someone else is talking to earshot. Tap to try again.');
  else if (status === 'idle') showNotice('Disconnected after a quiet while. Tap or press a key to continue.');
  else if (status === 'closed') showNotice(`Connection lost (${detail}); reconnecting…`);
}

/** After "busy" or "idle" the page waits for a person before it connects again. */
function wakeUp() {
  if (!waitingForPerson) return;
  waitingForPerson = false;
  connection.connect();
}

/** @param {ServerMessage} m */
function onMessage(m) {
  switch (m.type) {
    case 'hello':
      resolveVoiceRate(m.voiceSampleRate);
      // A new session (first, or after a reconnect) counts its turns from 1 again.
      droppedTurns.clear();
      timings.clear();
      latestTurn = 0;
      captions.clear();
      latencyList.replaceChildren();
      syncConfig();
      if (listening) connection.send({ type: 'start', mode });
      break;
    case 'state':
      setState(m.state, STATE_LABELS[m.state]);
      break;
    case 'speech-end':
      pendingSpeechEndHeard = audio.now();
      pendingQuestionEnd = Math.min(lastAudibleInputAt, pendingSpeechEndHeard);
      break;
    case 'partial-transcript':
      captions.partial(m.text);
      break;
    case 'no-speech':
      captions.clearPartial();
      break;
    case 'transcript':
      latestTurn = Math.max(latestTurn, m.turn);
      captions.user(m.turn, m.text);
      timings.set(m.turn, { turn: m.turn, questionEndAt: pendingQuestionEnd, speechEndHeardAt: pendingSpeechEndHeard });
      pendingQuestionEnd = undefined;
      pendingSpeechEndHeard = undefined;
      break;
    case 'sentence-start':
      if (!droppedTurns.has(m.turn)) captions.sentence(m.turn, m.text, m.durationMs);
      break;
    case 'sentence-end':
      captions.sentenceEnd(m.turn, m.heardMs, m.interrupted);
      break;
    case 'barge-in':
      if (m.action === 'pause') audio.pause();
      else if (m.action === 'resume') audio.resume();
      else dropTurn(m.turn);
      break;
    case 'turn-end':
      if (m.interrupted) captions.interrupted(m.turn);
      break;
    case 'metrics': {
      const t = timings.get(m.turn) ?? { turn: m.turn };
      t.serverFirstAudioMs = m.ms.firstAudio;
      timings.set(m.turn, t);
      showLatency(t);
      break;
    }
    case 'forgotten':
      // The next visitor must not read the last one's conversation.
      timings.clear();
      captions.clear();
      latencyList.replaceChildren();
      break;
    case 'error':
      showNotice(m.message);
      break;
  }
}

/** @param {CaptureBlock} block */
function onCapture(block) {
  const blockEnd = block.time + block.samples.length / audio.sampleRate;
  if (block.peak > AUDIBLE) lastAudibleInputAt = blockEnd;
  const db = block.peak > 0 ? 20 * Math.log10(block.peak) : METER_FLOOR_DB;
  // Fast attack, slow release.
  levelDb = db > levelDb ? db : Math.max(db, levelDb - 1.5);
  meterFill.style.transform = `scaleX(${Math.max(0, (levelDb - METER_FLOOR_DB) / -METER_FLOOR_DB)})`;
  if (listening && (mode === 'hands-free' || pttHeld)) connection.sendAudio(block.samples, audio.sampleRate);
}

/** @param {PlaybackEvent} e */
function onPlayback(e) {
  if (e.type === 'cleared') {
    const last = interrupts[interrupts.length - 1];
    if (last && last.clearedAt === undefined) last.clearedAt = e.time;
    return;
  }
  if (e.type === 'drained') return;
  const t = timings.get(e.turn) ?? { turn: e.turn };
  if (e.type === 'started') t.firstSampleAt = e.time;
  else t.firstAudibleAt = e.time;
  timings.set(e.turn, t);
  showLatency(t);
}

/** @param {TurnTiming} t */
function showLatency(t) {
  let row = /** @type {HTMLElement | null} */ (latencyList.querySelector(`[data-turn="${t.turn}"]`));
  if (!row) {
    row = document.createElement('li');
    row.dataset.turn = String(t.turn);
    latencyList.prepend(row);
    while (latencyList.children.length > 4) latencyList.lastElementChild?.remove();
  }
  const heard = t.questionEndAt !== undefined && t.firstAudibleAt !== undefined ? Math.round((t.firstAudibleAt - t.questionEndAt) * 1000) : undefined;
  const figures = [];
  if (heard !== undefined) figures.push(`you → earshot ${heard} ms`);
  if (t.serverFirstAudioMs !== undefined) figures.push(`(server ${Math.round(t.serverFirstAudioMs)} ms)`);
  row.textContent = `turn ${t.turn} · ${figures.join(' ')}`;
  if (heard !== undefined) row.dataset.heardMs = String(heard);
}

function syncConfig() {
  connection.send({ type: 'config', mode });
}

/** @param {number} turn */
function dropTurn(turn) {
  droppedTurns.add(turn);
  audio.clear();
}

function interrupt() {
  interrupts.push({ clickedAt: audio.now() });
  dropTurn(latestTurn);
  connection.send({ type: 'interrupt' });
}

/** Starts the audio the browser allows now; when it asks for a click first, shows the overlay. */
async function prepareAudio(/** @type {boolean} */ microphone) {
  // The page's audio runs at the voice's rate, which the server's greeting says; it does not wait for long.
  /** @type {number | undefined} */
  const rate = await Promise.race([voiceRate, new Promise((r) => setTimeout(() => r(undefined), 3000))]);
  try {
    if (microphone) await audio.startMicrophone(rate);
    else await audio.startOutput(rate);
  } catch (e) {
    showNotice(
      window.isSecureContext
        ? `The microphone is not available (${/** @type {Error} */ (e).message}). Check the browser's permission for this page.`
        : 'Browsers give a microphone only to https pages or pages of this machine: open earshot at http://127.0.0.1 here, or serve it behind https.',
    );
    return false;
  }
  syncConfig();
  if (!audio.running) {
    overlay.hidden = false;
    return false;
  }
  return true;
}

async function startListening(/** @type {ListenMode} */ nextMode) {
  mode = nextMode;
  syncModeControls();
  if (!(await prepareAudio(true))) return;
  listening = true;
  connection.send({ type: 'start', mode });
  syncModeControls();
}

function stopListening() {
  listening = false;
  connection.send({ type: 'stop' });
  syncModeControls();
}

async function pttDown() {
  if (pttHeld) return;
  pttHeld = true;
  talkButton.classList.add('held');
  interrupt();
  if (mode === 'push-to-talk' && !listening) await startListening('push-to-talk');
  connection.send({ type: 'ptt-down' });
}

function pttUp() {
  if (!pttHeld) return;
  pttHeld = false;
  talkButton.classList.remove('held');
  connection.send({ type: 'ptt-up' });
}

function syncModeControls() {
  for (const input of document.querySelectorAll('input[name="mode"]')) {
    const radio = /** @type {HTMLInputElement} */ (input);
    radio.checked = radio.value === mode;
  }
  listenButton.textContent = listening && mode === 'hands-free' ? 'Stop listening' : 'Start listening';
  listenButton.hidden = mode !== 'hands-free';
  root.dataset.mode = mode;
}

listenButton.addEventListener('click', () => {
  if (listening && mode === 'hands-free') stopListening();
  else void startListening('hands-free');
});
talkButton.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  void pttDown();
});
for (const type of ['pointerup', 'pointerleave', 'pointercancel']) talkButton.addEventListener(type, pttUp);
interruptButton.addEventListener('click', interrupt);
for (const input of document.querySelectorAll('input[name="mode"]')) {
  input.addEventListener('change', () => {
    mode = /** @type {ListenMode} */ (/** @type {HTMLInputElement} */ (input).value);
    syncModeControls();
    connection.send({ type: 'config', mode });
  });
}
textForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = textInput.value.trim();
  if (!text) return;
  textInput.value = '';
  await prepareAudio(false);
  interrupt();
  pendingQuestionEnd = audio.now();
  connection.send({ type: 'text', text });
});
$('fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void document.documentElement.requestFullscreen().catch(() => undefined);
});
overlay.addEventListener('click', async () => {
  overlay.hidden = true;
  await audio.startOutput();
  if (params.get('autostart') === '1' || listening) void startListening(mode);
});
document.addEventListener('keydown', (e) => {
  wakeUp();
  if (e.key === 'Escape') {
    e.preventDefault();
    interrupt();
    return;
  }
  // Space is push-to-talk everywhere but in the text box, where it is a space.
  if (e.code === 'Space' && e.target !== textInput) {
    e.preventDefault();
    if (!e.repeat) void pttDown();
  }
});
document.addEventListener('keyup', (e) => {
  if (e.code === 'Space' && e.target !== textInput) {
    e.preventDefault();
    pttUp();
  }
});
document.addEventListener('pointerdown', wakeUp);

syncModeControls();
setState('connecting', 'connecting…');
connection.connect();
if (params.get('autostart') === '1') void startListening('hands-free');
