/**
 * Where the infra tooling finds its inputs. The Bicep CLI and the local Graph extension package live under
 * .ci/tools (gitignored, installed by `npm run setup:test-tools`; BRIDGE_TOOLS_DIR moves it); the Graph type
 * data is vendored in infra/tools/bicep-types/ (its README says where it comes from).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { CI_TOOLS_DIR } from '../ci-tools-dir';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const INFRA_DIR = join(REPO_ROOT, 'infra');
export const MAIN_TEMPLATE = join(INFRA_DIR, 'main.bicep');
export const SHIPPED_CONFIG = join(INFRA_DIR, 'bicepconfig.json');
/** The compiled main.bicep behind the "Deploy to Azure" button; CI checks it is in sync. */
export const COMPILED_TEMPLATE = join(INFRA_DIR, 'azuredeploy.json');

export const TOOLS_DIR = join(CI_TOOLS_DIR, 'bicep');
export const BICEP_BINARY = join(TOOLS_DIR, 'bicep');

/** The registry reference the shipped templates use for the Microsoft Graph extension (docs/design/platform-facts.md, "Bicep offline"). */
export const GRAPH_EXTENSION_REGISTRY_REF = 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0';
export const GRAPH_TYPES_NAME = 'microsoftgraph-v1.0-1.0.0';

/** The Graph extension's type index (index.json + types.json), published as a local package for CI. */
export function graphTypesIndex(): string {
  const index = join(INFRA_DIR, 'tools', 'bicep-types', GRAPH_TYPES_NAME, 'index.json');
  if (!existsSync(index)) {
    throw new Error(
      `Microsoft Graph Bicep type data not found at ${index}: it is vendored in infra/tools/bicep-types/ (see its README).`,
    );
  }
  return index;
}
