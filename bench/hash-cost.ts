/**
 * What a password hash costs here, to choose PASSWORD_HASH_MEMORY_KIB and
 * PASSWORD_HASH_ITERATIONS: each of OWASP's argon2id rows (equal strength by their reckoning)
 * and the scrypt scheme the service used before (the benchmark's reference app still hashes
 * with it), interleaved in rounds so a machine that slows down weighs on all alike. Prints
 * the median ms per hash on one thread and the ratio to scrypt.
 *
 *   npm run bench:hash     BENCH_HASH_ROUNDS [5], BENCH_HASH_PER_ROUND [10]
 */
import { type Algorithm, hash } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import {
  scrypt,
  SCRYPT_KEY_LENGTH,
  SCRYPT_OPTIONS,
} from '../src/users/scrypt.js';

/** The package's `Algorithm` is a const enum, which isolatedModules cannot read. */
const ARGON2ID = 2 as Algorithm;
const PASSWORD = 'correct horse battery staple';

interface Candidate {
  name: string;
  run: () => Promise<unknown>;
}

const argon2 = (memoryCost: number, timeCost: number): Candidate => ({
  name: `argon2id m=${memoryCost} KiB, t=${timeCost}, p=1`,
  run: () =>
    hash(PASSWORD, {
      memoryCost,
      timeCost,
      parallelism: 1,
      algorithm: ARGON2ID,
    }),
});

const CANDIDATES: Candidate[] = [
  argon2(47_104, 1),
  argon2(19_456, 2),
  argon2(12_288, 3),
  argon2(9_216, 4),
  argon2(7_168, 5),
  argon2(65_536, 3),
  {
    name: 'scrypt N=2^17, r=8, p=1 (before; the reference app)',
    run: () =>
      scrypt(PASSWORD, randomBytes(16), SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS),
  },
];

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw && /^[1-9]\d*$/.test(raw) ? Number(raw) : fallback;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main(): Promise<void> {
  const rounds = count('BENCH_HASH_ROUNDS', 5);
  const perRound = count('BENCH_HASH_PER_ROUND', 10);
  const times = new Map<string, number[]>(CANDIDATES.map((c) => [c.name, []]));
  for (const candidate of CANDIDATES) await candidate.run();
  for (let round = 0; round < rounds; round++) {
    for (const candidate of CANDIDATES) {
      for (let i = 0; i < perRound; i++) {
        const start = process.hrtime.bigint();
        await candidate.run();
        times
          .get(candidate.name)!
          .push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  }
  const scryptMs = median(times.get(CANDIDATES.at(-1)!.name)!);
  console.log('| hash | ms per hash (median) | time against scrypt |');
  console.log('| --- | ---: | ---: |');
  for (const candidate of CANDIDATES) {
    const ms = median(times.get(candidate.name)!);
    console.log(
      `| ${candidate.name} | ${ms.toFixed(1)} | ${(ms / scryptMs).toFixed(2)} |`,
    );
  }
}

await main();
