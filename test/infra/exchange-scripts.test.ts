import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { REPO_ROOT } from '../../scripts/bicep/paths';
import { describeWithTool, toolPath } from '../helpers/tool-groups';

const TESTS_DIR = join(REPO_ROOT, 'infra', 'scripts', 'tests');

/** Runs a script in a fresh pwsh process; resolves with its exit code and everything it printed. */
function pwsh(file: string, ...args: string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      toolPath('pwsh'),
      ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', file, ...args],
      {
        timeout: 60_000,
        env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' },
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        resolve({ status: code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** The runner's closing line, "N passed, N failed". */
function tally(output: string): { passed: number; failed: number } {
  const match = /^(\d+) passed, (\d+) failed$/m.exec(output);
  if (!match) throw new Error(`no tally line in:\n${output}`);
  return { passed: Number(match[1]), failed: Number(match[2]) };
}

describeWithTool('pwsh', 'PowerShell scripts in infra/scripts', () => {
  it('every script parses cleanly with the PowerShell parser', async () => {
    const { status, output } = await pwsh(join(TESTS_DIR, 'Test-ScriptsParse.ps1'));
    expect(output).not.toContain('FAIL');
    expect(status, output).toBe(0);
    expect(tally(output).passed).toBeGreaterThanOrEqual(4);
  });

  it('the parse check fails on a script with a syntax error (negative control)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-parse-'));
    try {
      writeFileSync(join(dir, 'broken.ps1'), 'function Get-Thing {\n  if ($x { }\n');
      const { status, output } = await pwsh(join(TESTS_DIR, 'Test-ScriptsParse.ps1'), '-Path', dir);
      expect(status).toBe(1);
      expect(tally(output)).toEqual({ passed: 0, failed: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Set-BridgeMailboxScope.ps1 passes its tests against a fake Exchange Online', async () => {
    const { status, output } = await pwsh(join(TESTS_DIR, 'Set-BridgeMailboxScope.Tests.ps1'));
    expect(tally(output), output).toEqual({ passed: 16, failed: 0 });
    expect(status, output).toBe(0);
  });

  it('Get-BridgeAdminConsentUrl.ps1 passes its tests', async () => {
    const { status, output } = await pwsh(join(TESTS_DIR, 'Get-BridgeAdminConsentUrl.Tests.ps1'));
    expect(tally(output), output).toEqual({ passed: 4, failed: 0 });
    expect(status, output).toBe(0);
  });
});
