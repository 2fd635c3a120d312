import { createInterface } from 'node:readline';

/**
 * The child's side of JsonLineChild (broker-child.ts): a bench process of
 * its own (a broker, a peer's server, idle clients) says `hello` as its first
 * stdout line, then answers each JSON-line command read from stdin with one
 * JSON line carrying the command's `id`: the answer's fields, or `error`.
 * After answering `close` it exits; so it does when stdin closes, as the
 * parent gone means nobody will ever ask it to close.
 */
export function serveCommands<C extends { id: number; op: string }>(
  hello: Record<string, unknown>,
  answer: (command: C) => Promise<Record<string, unknown>>,
): void {
  replyLine(hello);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = JSON.parse(line) as C;
    answer(command).then(
      (result) => {
        replyLine({ id: command.id, ...result });
        if (command.op === 'close') process.exit(0);
      },
      (error: unknown) => replyLine({ id: command.id, error: String(error) }),
    );
  });
  lines.on('close', () => process.exit(0));
}

/** One JSON line on stdout, the channel the parent reads. */
function replyLine(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}
