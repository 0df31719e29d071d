import type { ChatTurn } from '../llm/llm-engine.js';

/** The conversation as the model sees it. Keeps the newest `maxTurns` messages so the context never overflows. */
export class ConversationHistory {
  private turns: ChatTurn[] = [];
  constructor(private readonly maxTurns: number) {}

  addUser(text: string): void {
    this.push({ role: 'user', text });
  }

  /** `spoken` is what the user heard; an interrupted reply is kept only up to there. */
  addAssistant(spoken: string, interrupted: boolean): void {
    if (spoken.trim().length === 0 && !interrupted) return;
    this.push(interrupted ? { role: 'assistant', text: spoken, interrupted: true } : { role: 'assistant', text: spoken });
  }

  /** Takes back the last message if it is the user's (their turn goes on), returning its text. */
  takeLastUser(): string | undefined {
    const last = this.turns[this.turns.length - 1];
    if (last?.role !== 'user') return undefined;
    this.turns.pop();
    return last.text;
  }

  /** Forgets every message. */
  clear(): void {
    this.turns = [];
  }

  get messages(): readonly ChatTurn[] {
    return this.turns;
  }

  private push(turn: ChatTurn): void {
    this.turns.push(turn);
    if (this.turns.length > this.maxTurns) this.turns = this.turns.slice(-this.maxTurns);
    // A conversation handed to the model must not start with an assistant message.
    while (this.turns.length > 0 && this.turns[0].role !== 'user') this.turns.shift();
  }
}
