/**
 * A terminal's identity (issue 13, "terminal-ID squatting"). The terminal ID
 * is shown on the terminal's screen and typed in shops (FIG. 19), so it is no
 * secret; what makes an ID the terminal's own is a 32-byte key that never
 * leaves the terminal except in its registration request. The ID is a
 * commitment to that key, as a Syncthing device ID is the hash of the device's
 * certificate: the first 64 bits of SHA-256(key), as 18 decimal digits (the
 * FIG. 11-A list keeps IDs in EF_ADN number fields, which hold digits only).
 *
 * Whoever saw the ID cannot register it first: the server creates a new
 * terminal entry only for a request that shows a key hashing to the ID. Making
 * a key for a chosen ID costs about 2^59 SHA-256 evaluations (10^18 / 2).
 */
export const TERMINAL_KEY_BYTES = 32;
export const TERMINAL_ID_DIGITS = 18;
const MODULUS = 10n ** BigInt(TERMINAL_ID_DIGITS);

/** The terminal ID a key commits to. */
export async function terminalIdOfKey(key: Uint8Array): Promise<string> {
  if (key.length !== TERMINAL_KEY_BYTES)
    throw new RangeError(`a terminal key is ${TERMINAL_KEY_BYTES} bytes`);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', key.slice()));
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(digest[i] ?? 0);
  return (n % MODULUS).toString().padStart(TERMINAL_ID_DIGITS, '0');
}

/** Does this key prove this ID? (A key of the wrong size proves nothing.) */
export async function keyProvesTerminalId(key: Uint8Array, terminalId: string): Promise<boolean> {
  if (key.length !== TERMINAL_KEY_BYTES) return false;
  return (await terminalIdOfKey(key)) === terminalId;
}

export interface TerminalIdentity {
  key: Uint8Array;
  terminalId: string;
}

/** A fresh identity: a random key and the ID it commits to. */
export async function newTerminalIdentity(): Promise<TerminalIdentity> {
  const key = new Uint8Array(TERMINAL_KEY_BYTES);
  globalThis.crypto.getRandomValues(key);
  return { key, terminalId: await terminalIdOfKey(key) };
}
