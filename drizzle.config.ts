import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` writes a new migration to drizzle/ from a change to the schema.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/infra/db/schema.ts',
  out: './drizzle',
});
