import { describe, expect, it } from 'vitest';
import { ScriptedUserAgent } from './scripted-user-agent.js';

describe('ScriptedUserAgent', () => {
  it('answers prompts from the script in order, per prompt kind', async () => {
    const user = new ScriptedUserAgent({ pins: ['1234', '0000'], permissions: [true] });
    user.queuePassword('hunter2');
    expect(await user.askPin('PIN?')).toBe('1234');
    expect(await user.askTerminalPassword('Password?')).toBe('hunter2');
    expect(await user.askPin('PIN again?')).toBe('0000');
    expect(await user.askPermission('Sync now?')).toBe(true);
    user.done();
  });

  it('records an unscripted prompt and cancels it (undefined, or false for permission)', async () => {
    const user = new ScriptedUserAgent();
    expect(await user.askPin('PIN?')).toBeUndefined();
    expect(await user.askTerminalPassword('Password?')).toBeUndefined();
    expect(await user.askPermission('Overwrite?')).toBe(false);
    expect(user.prompts).toEqual([
      { kind: 'pin', text: 'PIN?', answered: false },
      { kind: 'password', text: 'Password?', answered: false },
      { kind: 'permission', text: 'Overwrite?', answered: false },
    ]);
  });

  it('a scripted cancel (undefined) counts as an answer', async () => {
    const user = new ScriptedUserAgent({ pins: [undefined] });
    expect(await user.askPin('PIN?')).toBeUndefined();
    expect(user.prompts[0]?.answered).toBe(true);
    user.done();
  });

  it('done() fails when scripted answers were left unconsumed', async () => {
    const user = new ScriptedUserAgent({ pins: ['1234'], permissions: [true, false] });
    await user.askPermission('ok?');
    expect(() => user.done()).toThrow('unconsumed 1 PIN answer(s), 1 permission answer(s)');
  });

  it('keeps every notice in order and filters them by kind', () => {
    const user = new ScriptedUserAgent();
    user.notify({ kind: 'sync-rejected', reason: 'foreign SIM' });
    user.notify({ kind: 'unsynced-changes', count: 3 });
    user.notify({ kind: 'sync-rejected', reason: 'revoked' });
    expect(user.notices).toHaveLength(3);
    expect(user.noticesOf('sync-rejected').map((n) => n.reason)).toEqual(['foreign SIM', 'revoked']);
  });

  it('reset() forgets answers, prompts and notices', async () => {
    const user = new ScriptedUserAgent({ pins: ['1'] });
    user.notify({ kind: 'info', text: 'hi' });
    await user.askPermission('?');
    user.reset();
    user.done();
    expect(user.notices).toEqual([]);
    expect(user.prompts).toEqual([]);
  });
});
