/**
 * The CI-only Bicep configuration. The shipped infra/bicepconfig.json points the Graph extension at its
 * registry (mcr.microsoft.com), which the build machines cannot reach. CI publishes the same type data
 * (vendored in infra/tools/bicep-types/) as a local extension package and compiles with a copy of the shipped config in
 * which only that one reference is replaced, so linter rules can never differ between CI and users.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  BICEP_BINARY,
  GRAPH_EXTENSION_REGISTRY_REF,
  GRAPH_TYPES_NAME,
  SHIPPED_CONFIG,
  TOOLS_DIR,
  graphTypesIndex,
} from './paths';

const EXTENSION_PACKAGE = `${GRAPH_TYPES_NAME}.tgz`;
const CI_CONFIG = join(TOOLS_DIR, 'bicepconfig.ci.json');

/** The shipped config text with the registry reference replaced by a path (relative to the config file). */
export function ciConfigText(shippedText: string, localPackage: string): string {
  const quoted = JSON.stringify(GRAPH_EXTENSION_REGISTRY_REF);
  if (!shippedText.includes(quoted)) {
    throw new Error(
      `infra/bicepconfig.json no longer references ${GRAPH_EXTENSION_REGISTRY_REF}; update scripts/bicep/paths.ts`,
    );
  }
  return shippedText.split(quoted).join(JSON.stringify(localPackage));
}

let prepared: string | undefined;

/** Path of the CI config, creating the local extension package and the config when they are missing or stale. */
export function ciConfigPath(): string {
  if (prepared) return prepared;
  if (!existsSync(BICEP_BINARY)) {
    throw new Error(
      `Bicep CLI not found at ${BICEP_BINARY}.\nInstall it with: npm run setup:test-tools (or bash infra/tools/get-bicep.sh)`,
    );
  }
  mkdirSync(TOOLS_DIR, { recursive: true });
  const index = graphTypesIndex();
  const packagePath = join(TOOLS_DIR, EXTENSION_PACKAGE);
  if (!existsSync(packagePath) || statSync(packagePath).mtimeMs < statSync(index).mtimeMs) {
    // Written under a temporary name and renamed: test workers may prepare it at the same time.
    const temp = join(TOOLS_DIR, `.${process.pid}-${EXTENSION_PACKAGE}`);
    const out = spawnSync(BICEP_BINARY, ['publish-extension', index, '--target', temp, '--force'], {
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`bicep publish-extension failed:\n${out.stdout}\n${out.stderr}`);
    renameSync(temp, packagePath);
  }
  const text = ciConfigText(readFileSync(SHIPPED_CONFIG, 'utf8'), `./${EXTENSION_PACKAGE}`);
  if (!existsSync(CI_CONFIG) || readFileSync(CI_CONFIG, 'utf8') !== text) {
    const temp = `${CI_CONFIG}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, CI_CONFIG);
  }
  prepared = CI_CONFIG;
  return CI_CONFIG;
}
