import { postgres } from './harness/postgres.mjs';

export default async function globalTeardown() {
  await postgres.stop();
}
