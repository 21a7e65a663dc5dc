import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process the benchmark started, with the tail of its output for error messages. */
export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  exited: Promise<string>;
  hasExited(): boolean;
  recentOutput(): string;
}

const OUTPUT_LINES_KEPT = 40;
const running = new Set<Child>();

/**
 * Children must not outlive the benchmark: a leftover redis-server or service would hold its
 * port and skew the next run. 'exit' covers errors and normal ends; the signal handlers cover
 * Ctrl-C, which otherwise ends the process without an 'exit' event.
 */
function killChildrenOnExit(): void {
  process.once('exit', () => {
    for (const child of running) child.process.kill('SIGTERM');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the benchmark's processes`);
      process.exit(130);
    });
  }
}
killChildrenOnExit();

/** Starts a process; rejects if it cannot be started at all (e.g. ENOENT). */
export function startChild(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<Child> {
  const proc = spawn(command, args, {
    cwd: repoRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exitedYet = false;
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitedYet = true;
      running.delete(child);
      resolve(signal ?? `code ${code}`);
    });
  });
  const child: Child = {
    name,
    process: proc,
    pid: 0,
    exited,
    hasExited: () => exitedYet,
    recentOutput: () => lines.join('\n'),
  };
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('spawn', () => {
      child.pid = proc.pid!;
      running.add(child);
      resolve(child);
    });
  });
}

/** Asks a child to stop, and kills it if it has not exited after `graceMs`. */
export async function stopChild(
  child: Child,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<string> {
  if (child.hasExited()) return child.exited;
  child.process.kill(signal);
  const outcome = await Promise.race([child.exited, sleep(graceMs, 'timeout')]);
  if (outcome !== 'timeout') return outcome;
  child.process.kill('SIGKILL');
  return child.exited;
}

function failureOf(child: Child, problem: string): Error {
  return new Error(
    `${child.name} ${problem}. Its last output:\n${child.recentOutput() || '(none)'}`,
  );
}

export { freePort } from '../../test/harness/free-port.mjs';

/** Polls `check` until it returns true; fails early if the child exits meanwhile. */
export async function waitUntil(
  child: Child,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.hasExited())
      throw failureOf(child, `exited (${await child.exited}) before ${what}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw failureOf(child, `did not get to ${what} within ${timeoutMs / 1000} s`);
}

export async function answers(url: string, status: number): Promise<boolean> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status === status;
}

/** Resident set size from /proc, in MiB: what the kernel holds in RAM for the process. */
export async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** The repository root: the compiled bench runs from dist/.bench/bench, the source from bench. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('package.json not found above the bench');
    dir = parent;
  }
  return dir;
}
