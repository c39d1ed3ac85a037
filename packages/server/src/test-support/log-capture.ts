/**
 * Captures what the server logs. pino writes to file descriptor 1 through its own SonicBoom
 * stream unless process.stdout.write has been replaced when the logger is created (pino's
 * `hasBeenTampered` check), in which case it writes through process.stdout. So: call this
 * before startTestServer({ logLevel: 'info' }), and the server's real logger options
 * (serializers, redaction) run unchanged while their output lands here.
 */
export interface LogCapture {
  /** Everything written so far. */
  text(): string;
  /** The JSON log records written so far (non-JSON lines are skipped). */
  records(): Record<string, unknown>[];
  /** Puts process.stdout.write back. */
  restore(): void;
}

export function captureStdout(options: { echo?: boolean } = {}): LogCapture {
  const chunks: string[] = [];
  const original = process.stdout.write;
  const replacement = function (this: NodeJS.WriteStream, chunk: unknown, encodingOrCb?: unknown, cb?: unknown): boolean {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    if (options.echo) return original.call(this, chunk as string, encodingOrCb as BufferEncoding, cb as () => void);
    const done = typeof encodingOrCb === 'function' ? encodingOrCb : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  process.stdout.write = replacement as typeof process.stdout.write;
  return {
    text: () => chunks.join(''),
    records: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    restore: () => {
      if (process.stdout.write === replacement) process.stdout.write = original;
    },
  };
}
