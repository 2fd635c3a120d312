import {
  CATEGORIES,
  type Category,
  isCategory,
  normaliseSelection,
  POLICIES,
  type PolicyName,
  SyncError,
  type Terminal,
} from '../core/index.js';
import type { CardReader } from '../hal/index.js';
import type { AgentIO } from './agent-io.js';
import { failureLine } from './failure-text.js';

/** The policies of [0057] in words, each with the figure it follows. */
export const POLICY_WORDS: Record<PolicyName, string> = {
  'fig9-pin-password': 'card PIN at every sync + terminal password (FIG. 9)',
  'fig10-subscriber-binding': 'card PIN + the SIM bound to this terminal (FIG. 10-A/B)',
  'fig11-terminal-list': 'card PIN + this terminal listed on the SIM (FIG. 11-A/B)',
  'fig12-binding-password': 'card PIN + the SIM bound to this terminal + terminal password (FIG. 12)',
  'fig13-server-only': 'card PIN only; the server checks SIM and terminal (FIG. 13/14)',
};

const POLICY_CHOICES = Object.keys(POLICIES) as PolicyName[];
const DEFAULT_POLICY = 2;
/** Login passwords or codes tried before the walk-through gives up (the server counts them too). */
const SECRET_TRIES = 3;

/** The walk-through ended early: what was typed so far is forgotten. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled';
}

export interface FirstRunChoices {
  policy?: PolicyName;
  categories?: Category[];
}

/**
 * FIG. 8 / 19 on first run, as a person goes through it: each answer is
 * checked as it is typed and asked again, with the choices shown, when it
 * is not one of them; a wrong PIN is asked again by the engine (the card
 * counts), a login password the server refuses is asked again here.
 * Nothing is kept until the server has registered the terminal: the chosen
 * terminal password is held in memory and stored with the registration
 * (core/engine/registration-flow.ts). Rejects Cancelled when the user gives
 * no answer, presses Ctrl-C, or the input ends.
 */
export async function walkThrough(
  terminal: Terminal,
  reader: CardReader,
  io: AgentIO,
  preset: FirstRunChoices,
): Promise<void> {
  const shop = await yesNo(io, 'Registered at a shop, with a code from the shop?');
  const registered = (await terminal.registration()) !== undefined;
  // A terminal registered before (and refused since) keeps its password: registration asks for it.
  const terminalPassword = shop || registered ? undefined : await choosePassword(io);
  const policy = preset.policy ?? (await choosePolicy(io));
  const categories = preset.categories ?? (await chooseCategories(io));
  await waitForSim(io, reader);
  for (let attempt = 1; ; attempt++) {
    const secret = await ask(io, shop ? 'Shop code' : 'Login password or one-time code', true);
    try {
      const registration = await terminal.register({
        policy,
        secret,
        categories,
        shop,
        ...(terminalPassword === undefined ? {} : { terminalPassword }),
      });
      io.print(
        `Registered for subscriber ${registration.subscriberId}: ${registration.categories.join(', ')} (${POLICY_WORDS[policy]}).`,
      );
      return;
    } catch (e) {
      if (!secretRefused(e) || attempt >= SECRET_TRIES) throw e;
      io.print(`${failureLine(e, 'registration')}`);
      io.print(shop ? 'Check the code from the shop; again.' : 'Check the login password or code; again.');
    }
  }
}

/** The server refused the login password or code at CONNECT (FIG. 8 S5), or asks to wait. */
function secretRefused(e: unknown): boolean {
  return (
    e instanceof SyncError &&
    e.kind === 'server-refused' &&
    (e.code === 'connect-refused' || e.code === 'revoked' || e.code === 'throttled')
  );
}

async function ask(io: AgentIO, prompt: string, secret = false): Promise<string> {
  const answer = await io.question(prompt, { secret });
  if (answer === undefined) throw new Cancelled('registration cancelled');
  return answer;
}

async function yesNo(io: AgentIO, question: string): Promise<boolean> {
  for (;;) {
    const answer = (await ask(io, `${question} [y/N]`)).trim().toLowerCase();
    if (answer === '' || answer === 'n' || answer === 'no') return false;
    if (answer === 'y' || answer === 'yes') return true;
    io.print('Answer y or n.');
  }
}

async function choosePassword(io: AgentIO): Promise<string> {
  for (;;) {
    const first = await ask(io, 'Choose a terminal password', true);
    if (first.length < 4) {
      io.print('At least 4 characters, please.');
      continue;
    }
    if ((await ask(io, 'Repeat it', true)) === first) return first;
    io.print('They differ; again.');
  }
}

async function choosePolicy(io: AgentIO): Promise<PolicyName> {
  io.print('How much checking before each sync?');
  for (const [i, p] of POLICY_CHOICES.entries()) io.print(`  ${i + 1}) ${POLICY_WORDS[p]}`);
  io.print('  (the choice of [0057]: "to what extent the security is required")');
  for (;;) {
    const answer = (await ask(io, `Policy [${DEFAULT_POLICY}]`)).trim() || String(DEFAULT_POLICY);
    const byNumber = /^\d+$/.test(answer) ? POLICY_CHOICES[Number(answer) - 1] : undefined;
    const choice = byNumber ?? POLICY_CHOICES.find((p) => p === answer);
    if (choice !== undefined) return choice;
    io.print(`No policy ${answer}: answer 1 to ${POLICY_CHOICES.length}.`);
  }
}

async function chooseCategories(io: AgentIO): Promise<Category[]> {
  const offered = CATEGORIES.filter((c) => c !== 'rights');
  io.print(`Data to sync (FIG. 15): ${offered.join(', ')}`);
  for (;;) {
    const answer = (await ask(io, 'Categories, comma separated [all]')).trim() || 'all';
    if (answer === 'all') return [...CATEGORIES];
    const list = answer.split(/[,\s]+/).filter(Boolean);
    const unknown = list.filter((c) => !isCategory(c));
    if (unknown.length === 0) return normaliseSelection(list as Category[]);
    io.print(`No category ${unknown.join(', ')}: choose among ${offered.join(', ')} (or all).`);
  }
}

async function waitForSim(io: AgentIO, reader: CardReader): Promise<void> {
  while (!reader.present()) {
    const answer = await ask(io, 'Insert the SIM, then press Enter (or type cancel)');
    if (answer.trim() === 'cancel') throw new Cancelled('registration cancelled');
  }
}
