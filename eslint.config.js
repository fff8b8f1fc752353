// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.data/**',
      '.test-data/**',
      'coverage/**',
      'infra/**/*.json',
      'edge-listener/status-page/assets/**',
      '.ci/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'off',
    },
  },
  {
    // core/ is the ground floor: it may not reach up into either side or into a runtime host.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/functions/**',
            '**/edge-listener/**',
            '**/dev/**',
            '@azure/functions',
            'smtp-server',
            'node:net',
          ],
        },
      ],
    },
  },
  {
    // functions/ is what Azure runs: it may not import the edge or the dev-only tools in dev/.
    files: ['functions/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/edge-listener/**', '**/dev/**'] }] },
  },
  {
    // A message's path in the function reads http/ → delivery/ → mime/, graph/, state/, pacing/: delivery does
    // not reach back into the HTTP layer, and the layers below know neither (only the plan they exchange,
    // delivery/delivery-plan.ts).
    files: ['functions/delivery/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/edge-listener/**', '**/dev/**', '**/http/**'] }],
    },
  },
  {
    files: ['functions/{mime,graph,state,pacing}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/edge-listener/**',
            '**/dev/**',
            '**/http/**',
            '**/delivery/**',
            '!**/delivery/delivery-plan',
          ],
        },
      ],
    },
  },
  {
    files: ['edge-listener/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/functions/**', '**/dev/**', '@azure/functions'] }],
    },
  },
);
