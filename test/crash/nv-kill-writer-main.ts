// Entry of the bundled writer (nv-kill-writer.ts): node nv-kill-writer.mjs DIR COMPACT_MIN_BYTES
import { writeForever } from './nv-kill-writer.js';

const [dir, compactMinBytes] = process.argv.slice(2);
writeForever(dir as string, Number(compactMinBytes ?? 16384)).catch((error: unknown) => {
  process.stderr.write(`nv-kill-writer: ${String(error)}\n`);
  process.exit(1);
});
