/**
 * npm run infra:build   regenerates infra/azuredeploy.json (the "Deploy to Azure" template) from main.bicep
 * npm run infra:check   builds and lints every template; fails on any warning or a stale azuredeploy.json
 * Both need the Bicep CLI: bash infra/tools/get-bicep.sh
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { buildTemplateText, formatDiagnostic, lintPattern } from './bicep-cli';
import { COMPILED_TEMPLATE, MAIN_TEMPLATE, REPO_ROOT } from './paths';
import { TEMPLATE_PATTERN, displayPath, listTemplates } from './templates';

function build(): number {
  writeFileSync(COMPILED_TEMPLATE, buildTemplateText(MAIN_TEMPLATE));
  console.log(`wrote ${displayPath(COMPILED_TEMPLATE)}`);
  return 0;
}

function check(): number {
  const diagnostics = lintPattern(TEMPLATE_PATTERN, REPO_ROOT);
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  console.log(`linted ${listTemplates().length} templates: ${diagnostics.length} diagnostics`);
  let failures = diagnostics.length;
  if (readFileSync(COMPILED_TEMPLATE, 'utf8') !== buildTemplateText(MAIN_TEMPLATE)) {
    console.error(`${displayPath(COMPILED_TEMPLATE)} is stale: run npm run infra:build`);
    failures += 1;
  }
  return failures === 0 ? 0 : 1;
}

const command = process.argv[2];
if (command === 'build') process.exitCode = build();
else if (command === 'check') process.exitCode = check();
else {
  console.error('usage: infra-cli.ts build|check');
  process.exitCode = 2;
}
