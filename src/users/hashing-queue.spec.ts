import { DomainError } from '../infra/http/domain-error.js';
import { HashingQueue } from './hashing-queue.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('HashingQueue', () => {
  it('runs at most `concurrency` jobs at once, the rest in arrival order', async () => {
    const queue = new HashingQueue(2, 60_000);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const jobs = gates.map((g, i) =>
      queue.run(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await g.opened;
        running--;
        return i;
      }),
    );
    expect(queue.queued).toBe(2);
    gates[1].open();
    gates[0].open();
    gates[3].open();
    gates[2].open();
    await expect(Promise.all(jobs)).resolves.toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
    expect(queue.queued).toBe(0);
  });

  it('refuses a job that waited its longest with overloaded and a Retry-After, and never runs it', async () => {
    const queue = new HashingQueue(1, 5);
    const busy = gate();
    const first = queue.run(() => busy.opened);
    let ran = false;
    const second = queue.run(async () => {
      ran = true;
    });
    const error = await second.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: 'overloaded',
      details: { retryAfterSeconds: 1 },
    });
    expect(queue.queued).toBe(0);
    busy.open();
    await first;
    expect(ran).toBe(false);
    // The refused job left no turn taken: the next one starts at once.
    await expect(queue.run(async () => 'next')).resolves.toBe('next');
  });

  it('gives the turn back when a job throws', async () => {
    const queue = new HashingQueue(1, 60_000);
    await expect(
      queue.run(() => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    await expect(queue.run(async () => 1)).resolves.toBe(1);
  });
});
