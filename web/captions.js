// @ts-check

/** Turns kept on screen; older ones scroll away. */
const KEEP_TURNS = 6;

/**
 * Live captions: what the user is saying (partial, replaced as it grows), what they said, and the reply, shown
 * word by word as it is spoken — a sentence's words are revealed over the time its audio lasts, and a sentence
 * cut by an interruption stops where the listener stopped hearing it.
 */
export class Captions {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    /** @type {HTMLElement | undefined} */
    this.partialLine = undefined;
    /** @type {Map<HTMLElement, { words: string[], startedAt: number, durationMs: number, shown: number }>} */
    this.revealing = new Map();
    this.tick = this.tick.bind(this);
  }

  /** @param {string} text what the user has said so far */
  partial(text) {
    if (!this.partialLine) {
      this.partialLine = line('you partial', '');
      this.root.append(this.partialLine);
    }
    this.partialLine.textContent = text;
    this.scroll();
  }

  /** Forgets every turn (a new session numbers its turns from 1). */
  clear() {
    this.revealing.clear();
    this.clearPartial();
    this.root.replaceChildren();
  }

  clearPartial() {
    this.partialLine?.remove();
    this.partialLine = undefined;
  }

  /**
   * @param {number} turn
   * @param {string} text
   */
  user(turn, text) {
    this.clearPartial();
    this.turnBox(turn).querySelector('.you')?.replaceChildren(text);
    this.scroll();
  }

  /**
   * A sentence starts to play.
   * @param {number} turn
   * @param {string} text
   * @param {number} durationMs
   */
  sentence(turn, text, durationMs) {
    const reply = /** @type {HTMLElement} */ (this.turnBox(turn).querySelector('.reply'));
    const span = document.createElement('span');
    span.className = 'sentence';
    reply.append(span);
    this.revealing.set(span, { words: text.trim().split(/\s+/), startedAt: performance.now(), durationMs, shown: 0 });
    if (this.revealing.size === 1) requestAnimationFrame(this.tick);
    this.scroll();
  }

  /**
   * A sentence stopped: in full, or cut after `heardMs`.
   * @param {number} turn
   * @param {number} heardMs
   * @param {boolean} interrupted
   */
  sentenceEnd(turn, heardMs, interrupted) {
    const spans = this.turnBox(turn).querySelectorAll('.reply .sentence');
    const span = /** @type {HTMLElement | undefined} */ (spans[spans.length - 1]);
    const r = span && this.revealing.get(span);
    if (!span || !r) return;
    this.revealing.delete(span);
    const share = interrupted ? Math.min(1, heardMs / Math.max(1, r.durationMs)) : 1;
    this.show(span, r.words, Math.round(r.words.length * share));
    if (interrupted) span.classList.add('cut');
  }

  /** @param {number} turn */
  interrupted(turn) {
    this.turnBox(turn).classList.add('interrupted');
  }

  /** @param {number} turn */
  turnBox(turn) {
    let box = /** @type {HTMLElement | null} */ (this.root.querySelector(`.turn[data-turn="${turn}"]`));
    if (box) return box;
    box = document.createElement('div');
    box.className = 'turn';
    box.dataset.turn = String(turn);
    box.append(line('you', ''), line('reply', ''));
    if (this.partialLine) this.root.insertBefore(box, this.partialLine);
    else this.root.append(box);
    const turns = this.root.querySelectorAll('.turn');
    for (let i = 0; i < turns.length - KEEP_TURNS; i++) turns[i].remove();
    return box;
  }

  tick() {
    const now = performance.now();
    for (const [span, r] of this.revealing) {
      const share = Math.min(1, (now - r.startedAt) / Math.max(1, r.durationMs));
      const count = Math.max(1, Math.ceil(r.words.length * share));
      if (count !== r.shown) {
        r.shown = count;
        this.show(span, r.words, count);
      }
    }
    if (this.revealing.size > 0) requestAnimationFrame(this.tick);
  }

  /**
   * @param {HTMLElement} span
   * @param {string[]} words
   * @param {number} count
   */
  show(span, words, count) {
    const previous = span.previousElementSibling ? ' ' : '';
    span.textContent = previous + words.slice(0, count).join(' ');
    this.scroll();
  }

  scroll() {
    this.root.scrollTop = this.root.scrollHeight;
  }
}

/**
 * @param {string} className
 * @param {string} text
 */
function line(className, text) {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}
