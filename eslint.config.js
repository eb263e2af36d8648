// Lint config: typescript-eslint's recommended rules, strict about `any` at boundaries, and the
// import directions of docs/architecture.md (the data flow) as `no-restricted-imports` per folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What each folder of src/ may import, besides itself and npm packages. Arrows follow the data:
 *   agent:     config → capture → pipeline → formats → sinks (→ transport)
 *   collector: (formats →) receive → store → api → ui, sources feed the store
 * `cli/` is the composition root and may import anything. Paths are folder names under src/;
 * `sinks/schemes.js` is the sinks' pure URL check, which the config loader calls at the edge.
 */
export const LAYERS = {
  core: [],
  transport: ['core'],
  formats: ['core'],
  config: ['core', 'formats', 'sinks/schemes.js'],
  'model-server': ['core'],
  capture: ['core', 'config', 'formats', 'pipeline'],
  pipeline: ['core', 'config', 'formats', 'sinks/sink.js'],
  sinks: ['core', 'formats', 'transport'],
  store: ['core', 'formats'],
  api: ['core', 'store'],
  collector: ['core', 'formats', 'store', 'api'],
  sources: ['core', 'formats', 'transport', 'store'],
  replay: ['core', 'api'],
};
const FOLDERS = [...Object.keys(LAYERS), 'cli'];

function importDirection(layer, allowed) {
  const allowedFolders = allowed.filter((a) => !a.includes('/'));
  const allowedFiles = allowed.filter((a) => a.includes('/'));
  const banned = FOLDERS.filter((f) => f !== layer && !allowedFolders.includes(f));
  return {
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts', '**/*.contract.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...banned.map((f) => `**/${f}/**`),
                ...allowedFiles.map((f) => `!**/${f}`),
                '**/test/**',
              ],
              message: `src/${layer}/ may import only ${allowed.join(', ') || 'nothing of src/'} (docs/architecture.md: imports go with the data flow).`,
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.peers/**', '.venv/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        performance: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        fetch: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...Object.entries(LAYERS).map(([layer, allowed]) => importDirection(layer, allowed)),
);
