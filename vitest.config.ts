import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests that use only the public API run twice: against src/ and against the built
// dist/ (what users install), by aliasing the barrel import to dist/index.js.
const publicApiTests = [
  'test/store/config-store.test.ts',
  'test/store/config-store.options.test.ts',
  'test/store/config-store.lifecycle.test.ts',
  'test/store/collect-garbage.test.ts',
  'test/store/pin-registry.test.ts',
  'test/transaction/transaction.test.ts',
  'test/transaction/prepared-transaction.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Collected only with --coverage (as `npm test` runs it), so a targeted run of a few
    // files is not held to the floor.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: { lines: 90, branches: 90 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'src',
          include: ['test/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: { name: 'dist', include: publicApiTests },
        resolve: { alias: [{ find: /^(\.\.\/)+src\/index\.js$/, replacement: resolve(import.meta.dirname, 'dist/index.js') }] },
      },
    ],
  },
});
