/**
 * Where the infra tooling finds its inputs. The Bicep CLI and the local Graph extension package live under
 * .ci/tools (gitignored, installed by infra/tools/get-bicep.sh); the Graph type data comes from the team's
 * shared folder beside the checkout (../shared/bicep-types), which CI lays out the same way.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const INFRA_DIR = join(REPO_ROOT, 'infra');
export const MAIN_TEMPLATE = join(INFRA_DIR, 'main.bicep');
export const SHIPPED_CONFIG = join(INFRA_DIR, 'bicepconfig.json');
/** The compiled main.bicep behind the "Deploy to Azure" button; CI checks it is in sync. */
export const COMPILED_TEMPLATE = join(INFRA_DIR, 'azuredeploy.json');

export const TOOLS_DIR = join(REPO_ROOT, '.ci', 'tools', 'bicep');
export const BICEP_BINARY = join(TOOLS_DIR, 'bicep');

/** The registry reference the shipped templates use for the Microsoft Graph extension (platform-facts §C11). */
export const GRAPH_EXTENSION_REGISTRY_REF = 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0';
export const GRAPH_TYPES_NAME = 'microsoftgraph-v1.0-1.0.0';

/** The Graph extension's type index (index.json + types.json), published as a local package for CI. */
export function graphTypesIndex(): string {
  const index = join(REPO_ROOT, '..', 'shared', 'bicep-types', GRAPH_TYPES_NAME, 'index.json');
  if (!existsSync(index)) {
    throw new Error(
      `Microsoft Graph Bicep type data not found at ${index}; CI lays out ../shared/bicep-types beside the checkout (infra/README.md).`,
    );
  }
  return index;
}
