import { describe, expect, it } from 'vitest';
import { CommandWordsError, joinWords, splitWords } from './command-words.js';

describe('command words at the agent prompt (issue 15 item 7)', () => {
  it('reads quoted paths with spaces as one word, as a shell does', () => {
    expect(splitWords('import-vcard "my dir/My Contacts.vcf"')).toEqual([
      'import-vcard',
      'my dir/My Contacts.vcf',
    ]);
    expect(splitWords("export-ical 'a b/c.ics'")).toEqual(['export-ical', 'a b/c.ics']);
    expect(splitWords('import-vcard my\\ dir/x.vcf')).toEqual(['import-vcard', 'my dir/x.vcf']);
    expect(splitWords('  ls   contacts  ')).toEqual(['ls', 'contacts']);
    expect(splitWords('put pim e1 "say \\"hi\\""')).toEqual(['put', 'pim', 'e1', 'say "hi"']);
    expect(splitWords('x ""')).toEqual(['x', '']);
  });

  it('refuses an unclosed quote instead of guessing', () => {
    expect(() => splitWords('import-vcard "my dir/x.vcf')).toThrow(CommandWordsError);
  });

  it('joins argv so that it splits back to the same words', () => {
    const argv = ['import-vcard', 'my dir/My Contacts.vcf', "it's", '', 'plain.vcf', 'BEGIN:VCARD\\nFN:A'];
    expect(splitWords(joinWords(argv))).toEqual(argv);
    expect(joinWords(['ls', 'contacts'])).toBe('ls contacts');
  });
});
