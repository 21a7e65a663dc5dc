import { createConnection } from 'node:net';

export interface RawResponse {
  /** The status code, or 0 when the server closed the connection without answering. */
  status: number;
  head: string;
}

/**
 * Sends bytes as they are over a fresh TCP connection and reads the status line of the answer.
 * For requests an HTTP client refuses to send: invalid UTF-8 in the request line, NUL bytes in
 * headers, conflicting framing headers. Rejects after `timeoutMs` (a hang detector).
 */
export function rawRequest(
  port: number,
  bytes: Buffer,
  timeoutMs = 5_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new Error(`no answer within ${timeoutMs} ms (hang)`)),
        ),
      timeoutMs,
    );
    const answer = () => {
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      finish(() =>
        resolve({
          status: match ? Number(match[1]) : 0,
          head: received.split('\r\n\r\n')[0],
        }),
      );
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) answer();
    });
    socket.once('end', answer);
    socket.once('close', answer);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // The server may drop a request it cannot parse: that is an answer too (status 0).
      if (received || err.code === 'ECONNRESET' || err.code === 'EPIPE')
        answer();
      else finish(() => reject(err));
    });
    // Half-close after sending: a request shorter than it claims then ends instead of waiting.
    socket.once('connect', () => socket.end(bytes));
  });
}
