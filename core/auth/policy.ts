/**
 * Which terminal-side checks run before every sync ([0057]: "to what extent
 * the security is required" is chosen at set-up). Each preset is one flow
 * chart of the patent.
 */
export interface AuthPolicy {
  /** Ask for PIN1 and have the card verify it at every sync (FIG. 9 S11–S12). */
  pinEachSync: boolean;
  /** Ask for the terminal password and check it against the stored hash (FIG. 9, FIG. 12 S43–S44). */
  terminalPassword: boolean;
  /**
   * Terminal-to-SIM association: the subscriber ID bound in the terminal equals
   * the SIM's (FIG. 10-B S31–S32), or this terminal's ID is in the SIM's list
   * (FIG. 11-B S31a–S32a), or none on the terminal (FIG. 13: the server decides).
   */
  binding: 'subscriber-id' | 'terminal-list' | 'none';
}

export const POLICIES = {
  /** FIG. 9: PIN verified by the card + terminal password, every sync. */
  'fig9-pin-password': { pinEachSync: true, terminalPassword: true, binding: 'none' },
  /** FIG. 10-B: the SIM's subscriber ID equals the one bound at FIG. 10-A. */
  'fig10-subscriber-binding': { pinEachSync: false, terminalPassword: false, binding: 'subscriber-id' },
  /** FIG. 11-B: this terminal's ID is on the SIM's list written at FIG. 11-A. */
  'fig11-terminal-list': { pinEachSync: false, terminalPassword: false, binding: 'terminal-list' },
  /** FIG. 12: subscriber binding + terminal password. */
  'fig12-binding-password': { pinEachSync: false, terminalPassword: true, binding: 'subscriber-id' },
  /** FIG. 13: no terminal-side check; the server checks subscriber ID + terminal ID (FIG. 14). */
  'fig13-server-only': { pinEachSync: false, terminalPassword: false, binding: 'none' },
} as const satisfies Record<string, AuthPolicy>;

export type PolicyName = keyof typeof POLICIES;

export function isPolicyName(value: unknown): value is PolicyName {
  return typeof value === 'string' && Object.hasOwn(POLICIES, value);
}
