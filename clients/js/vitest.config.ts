import { defineConfig } from 'vitest/config';

// Unit tests only; test/integration runs under node --test against the binary.
export default defineConfig({
  test: { include: ['test/unit/**/*.test.ts'], environment: 'node' },
});
