/**
 * Bytes of a contacts or calendar file → text, the way the file's author
 * meant it. vCard 4.0 and iCalendar are UTF-8 (RFC 6350 §3.1, RFC 5545
 * §3.1.4), but people bring files from phones and mail programs that wrote
 * UTF-16 with a byte-order mark, UTF-8 with one, or a Windows code page with
 * a vCard 2.1 `CHARSET` parameter (vCard 2.1 §2.1.6) or none at all. The
 * platform's TextDecoder (the WHATWG encoding standard) does the decoding;
 * only the choice of decoder, line by line, is ours.
 */

export interface DecodeWarning {
  line: number;
  message: string;
}

export interface DecodedText {
  text: string;
  /** What the file was read as: 'utf-8', 'utf-8 (BOM)', 'utf-16le (BOM)', … */
  encoding: string;
  warnings: DecodeWarning[];
}

const FALLBACK = 'windows-1252';

/** A decoder for a vCard 2.1 CHARSET value, or undefined when the platform has none by that name. */
function decoderFor(label: string): TextDecoder | undefined {
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    return undefined;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-16 without a BOM: every other byte of an ASCII-heavy text is zero. */
function utf16WithoutBom(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(bytes.length, 512) & ~1;
  if (n < 8) return undefined;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZero++;
    if (bytes[i + 1] === 0) oddZero++;
  }
  if (oddZero > n / 4 && evenZero === 0) return 'utf-16le';
  if (evenZero > n / 4 && oddZero === 0) return 'utf-16be';
  return undefined;
}

/** Splits bytes after each LF or lone CR, keeping the line ends (so offsets stay exact). */
function byteLines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0a || (b === 0x0d && bytes[i + 1] !== 0x0a && bytes[i + 1] !== 0x0d)) {
      out.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

const CHARSET = /;\s*CHARSET\s*=\s*"?([A-Za-z0-9_.:-]+)/i;

/**
 * Decodes a file. A BOM decides for the whole file; otherwise each line is
 * UTF-8 when it is valid UTF-8 (ASCII is), else the charset its own CHARSET
 * parameter names, else Windows-1252 — with a warning naming the line, since
 * that last one is a guess the user should check.
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const rest = decodeLines(bytes.subarray(3));
    return { ...rest, encoding: `${rest.encoding} (BOM)` };
  }
  const bom16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? 'utf-16le'
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? 'utf-16be'
        : undefined;
  if (bom16) {
    return {
      text: new TextDecoder(bom16).decode(bytes.subarray(2)),
      encoding: `${bom16} (BOM)`,
      warnings: [],
    };
  }
  const guessed16 = utf16WithoutBom(bytes);
  if (guessed16) return { text: new TextDecoder(guessed16).decode(bytes), encoding: guessed16, warnings: [] };
  return decodeLines(bytes);
}

function decodeLines(bytes: Uint8Array): DecodedText {
  try {
    return { text: strictUtf8.decode(bytes), encoding: 'utf-8', warnings: [] };
  } catch {
    // Not UTF-8 as a whole: decide line by line below.
  }
  const warnings: DecodeWarning[] = [];
  const parts: string[] = [];
  const used = new Set<string>();
  for (const [index, line] of byteLines(bytes).entries()) {
    try {
      parts.push(strictUtf8.decode(line));
      continue;
    } catch {
      // Falls through to the line's own charset.
    }
    const head = new TextDecoder('latin1').decode(line.subarray(0, Math.min(line.length, 200)));
    const label = CHARSET.exec(head.split(':')[0] ?? '')?.[1];
    const named = label ? decoderFor(label) : undefined;
    if (named) {
      try {
        parts.push(named.decode(line));
        used.add(named.encoding);
        continue;
      } catch {
        // The named charset does not fit these bytes either.
      }
    }
    parts.push(new TextDecoder(FALLBACK).decode(line));
    used.add(FALLBACK);
    warnings.push({
      line: index + 1,
      message: label
        ? `not valid ${label} (CHARSET=${label}); read as Windows-1252: check this text`
        : 'not UTF-8 and no CHARSET; read as Windows-1252: check this text',
    });
  }
  return { text: parts.join(''), encoding: ['utf-8', ...used].join(' + '), warnings };
}
