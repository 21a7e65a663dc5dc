import { HARNESS } from './harness/parts.mjs';

export default async function globalTeardown() {
  for (const part of [...HARNESS].reverse()) await part.stop?.();
}
