/**
 * The words of a command line typed at the agent's prompt, as a shell would
 * split them (issue 15 item 7: `import-vcard "my dir/My Contacts.vcf"`):
 * whitespace separates words; inside '…' everything is literal; inside "…"
 * a backslash escapes `"` and `\`; elsewhere a backslash escapes the next
 * character. An unclosed quote is an error, not a guess.
 */
export class CommandWordsError extends Error {
  override readonly name = 'CommandWordsError';
}

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < line.length) word += line[++i];
    else word += c;
  }
  if (quote !== undefined) throw new CommandWordsError(`unclosed ${quote} in the command`);
  if (inWord) words.push(word);
  return words;
}

/** The inverse: a line that splitWords reads back as these words (one-shot argv to the agent). */
export function joinWords(words: readonly string[]): string {
  return words
    .map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./~-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
