import { join, resolve } from 'node:path';

/**
 * Where the tools that come from NuGet through dotnet live: the Bicep CLI (`bicep/bicep`) and PowerShell
 * (`pwsh/pwsh`). `.ci/tools/` in the checkout (gitignored; `npm run setup:test-tools` fills it), or the
 * folder in BRIDGE_TOOLS_DIR — which infra/tools/get-bicep.sh and get-pwsh.sh honour too, and which lets a
 * test run pretend the tools are absent (README.md, "Tests").
 */
export const CI_TOOLS_DIR = process.env.BRIDGE_TOOLS_DIR
  ? resolve(process.env.BRIDGE_TOOLS_DIR)
  : join(resolve(__dirname, '..'), '.ci', 'tools');
