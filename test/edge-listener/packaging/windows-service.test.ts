import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { describeWithTool, toolPath } from '../../helpers/tool-groups';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const WINDOWS = join(REPO_ROOT, 'edge-listener', 'packaging', 'windows');

function pwsh(script: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      toolPath('pwsh'),
      ['-NoProfile', '-NonInteractive', '-Command', script],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

describeWithTool('pwsh', 'Windows service scripts', () => {
  it('install, uninstall and their module parse without errors in PowerShell', async () => {
    const files = ['install-service.ps1', 'uninstall-service.ps1', 'EdgeService.psm1'].map((f) =>
      join(WINDOWS, f),
    );
    const { code, out } = await pwsh(
      `$bad = 0; foreach ($f in @(${files.map(quote).join(',')})) { $t = $null; $e = $null; [void][System.Management.Automation.Language.Parser]::ParseFile($f, [ref]$t, [ref]$e); foreach ($x in $e) { Write-Output "$f $($x.Extent.StartLineNumber): $($x.Message)"; $bad++ } }; Write-Output "errors=$bad"`,
    );
    expect(out).toContain('errors=0');
    expect(code).toBe(0);
  });

  it('writes a WinSW configuration that runs the bundle as its own virtual account with escaped values and a graceful stop', async () => {
    const script = `
      Import-Module ${quote(join(WINDOWS, 'EdgeService.psm1'))}
      $envs = Get-EdgeServiceEnvironment -DataDir 'C:\\ProgramData\\smtp-graph-bridge' -ConfigFile 'C:\\cfg\\a&b "edge".json' -SiteSecretFile 'C:\\s\\site-secret'
      $text = New-EdgeServiceXml -ServiceName 'smtp-graph-bridge-edge' -NodePath 'C:\\Program Files\\nodejs\\node.exe' -BundlePath 'C:\\Program Files\\smtp-graph-bridge\\edge-listener.cjs' -DataDir 'C:\\ProgramData\\smtp-graph-bridge' -LogDir 'C:\\ProgramData\\smtp-graph-bridge\\logs' -Environment $envs
      $x = [xml]$text
      [pscustomobject]@{
        id = $x.service.id; executable = $x.service.executable; arguments = @($x.service.argument)
        account = "$($x.service.serviceaccount.domain)\\$($x.service.serviceaccount.user)"; stoptimeout = $x.service.stoptimeout
        onfailure = @($x.service.onfailure | ForEach-Object { $_.action }); logmode = $x.service.log.mode
        env = @($x.service.env | ForEach-Object { @{ name = $_.name; value = $_.value } })
      } | ConvertTo-Json -Depth 4 -Compress`;
    const { code, out } = await pwsh(script);
    expect(code, out).toBe(0);
    const cfg = JSON.parse(out.trim().split('\n').at(-1)!) as {
      id: string;
      executable: string;
      arguments: string[];
      account: string;
      stoptimeout: string;
      onfailure: string[];
      logmode: string;
      env: Array<{ name: string; value: string }>;
    };
    expect(cfg.id).toBe('smtp-graph-bridge-edge');
    expect(cfg.executable).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(cfg.arguments).toEqual([
      '--max-semi-space-size=1',
      'C:\\Program Files\\smtp-graph-bridge\\edge-listener.cjs',
      'start',
    ]);
    // Not NT AUTHORITY\LocalService, which every LocalService process shares (issue 10).
    expect(cfg.account).toBe('NT SERVICE\\smtp-graph-bridge-edge');
    expect(cfg.stoptimeout).toBe('45 sec');
    expect(cfg.onfailure).toEqual(['restart', 'restart']);
    expect(cfg.logmode).toBe('roll-by-size');
    const env = Object.fromEntries(cfg.env.map((e) => [e.name, e.value]));
    expect(env).toEqual({
      BRIDGE_DATA_DIR: 'C:\\ProgramData\\smtp-graph-bridge',
      BRIDGE_CONFIG_FILE: 'C:\\cfg\\a&b "edge".json',
      BRIDGE_SITE_SECRET_FILE: 'C:\\s\\site-secret',
    });
  });

  it('grants the data and secrets folders to the service account alone: no inheritance, LocalService removed', async () => {
    const { code, out } = await pwsh(`
      Import-Module ${quote(join(WINDOWS, 'EdgeService.psm1'))}
      $account = Get-EdgeServiceAccount -ServiceName 'smtp-graph-bridge-edge'
      [pscustomobject]@{
        account = $account
        before = @(Get-EdgeDataAclArguments -Path 'C:\\D')
        data = @(Get-EdgeDataAclArguments -Path 'C:\\D' -Access Modify -Account $account)
        secrets = @(Get-EdgeDataAclArguments -Path 'C:\\D\\secrets' -Access Read -Account $account)
        bad = $(try { Get-EdgeServiceAccount -ServiceName 'a b\\c' } catch { 'refused' })
      } | ConvertTo-Json -Compress`);
    expect(code, out).toBe(0);
    const acl = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, string[] | string>;
    expect(acl.account).toBe('NT SERVICE\\smtp-graph-bridge-edge');
    const common = [
      '/inheritance:r',
      '/remove:g',
      '*S-1-5-19',
      '/grant:r',
      '*S-1-5-32-544:(OI)(CI)F',
      '*S-1-5-18:(OI)(CI)F',
    ];
    expect(acl.before).toEqual(['C:\\D', ...common]);
    expect(acl.data).toEqual(['C:\\D', ...common, 'NT SERVICE\\smtp-graph-bridge-edge:(OI)(CI)M']);
    expect(acl.secrets).toEqual([
      'C:\\D\\secrets',
      ...common,
      'NT SERVICE\\smtp-graph-bridge-edge:(OI)(CI)R',
    ]);
    for (const list of [acl.before, acl.data, acl.secrets])
      expect((list as string[]).join(' ')).not.toMatch(/LocalService|S-1-5-32-545|Users|Everyone/i);
    expect(acl.bad).toBe('refused');
    // The installer uses exactly these, and sets the account through the service manager too.
    const installer = readFileSync(join(WINDOWS, 'install-service.ps1'), 'utf8');
    expect(installer).not.toMatch(/LocalService'/);
    expect(installer).toMatch(/sc\.exe config \$ServiceName obj= \$account/);
    expect(installer.match(/Get-EdgeDataAclArguments/g)?.length).toBe(3);
  });

  it('refuses to build a configuration with an invalid environment name, and counts the spool backlog', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'winspool-'));
    mkdirSync(join(dataDir, 'spool', 'messages'), { recursive: true });
    for (const n of ['a', 'b']) writeFileSync(join(dataDir, 'spool', 'messages', `${n}.json`), '{}');
    writeFileSync(join(dataDir, 'spool', 'messages', 'a.eml'), '');
    const { out } = await pwsh(`
      Import-Module ${quote(join(WINDOWS, 'EdgeService.psm1'))}
      try { New-EdgeServiceXml -ServiceName s -NodePath n -BundlePath b -DataDir d -LogDir l -Environment @{ 'bad name' = 'x' } | Out-Null; 'no-error' } catch { "error: $($_.Exception.Message)" }
      "backlog=$(Get-EdgeSpoolBacklog -DataDir ${quote(dataDir)})"
      "empty=$(Get-EdgeSpoolBacklog -DataDir ${quote(join(dataDir, 'nothing'))})"`);
    expect(out).toContain('error: Not an environment variable name: bad name');
    expect(out).toContain('backlog=2');
    expect(out).toContain('empty=0');
  });
});
