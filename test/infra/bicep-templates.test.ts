import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { formatDiagnostic, lintPattern, lintTemplate } from '../../scripts/bicep/bicep-cli';
import { ciConfigPath, ciConfigText } from '../../scripts/bicep/ci-config';
import {
  COMPILED_TEMPLATE,
  GRAPH_EXTENSION_REGISTRY_REF,
  INFRA_DIR,
  REPO_ROOT,
  SHIPPED_CONFIG,
} from '../../scripts/bicep/paths';
import { TEMPLATE_PATTERN, listTemplates } from '../../scripts/bicep/templates';
import { compiledMain, compiledMainText } from './arm';
import { describeWithTool, requireTool } from '../helpers/tool-groups';

describe('Bicep templates', () => {
  it('every template in infra/ compiles and lints without a single diagnostic', (ctx) => {
    requireTool(ctx, 'bicep');
    expect(listTemplates().length).toBeGreaterThanOrEqual(9);
    const diagnostics = lintPattern(TEMPLATE_PATTERN, REPO_ROOT).map(formatDiagnostic);
    expect(diagnostics).toEqual([]);
  });

  it('the lint check reports a warning when there is one (negative control)', (ctx) => {
    requireTool(ctx, 'bicep');
    const diagnostics = lintTemplate(join(__dirname, 'fixtures', 'unused-param.bicep'));
    expect(diagnostics.map((d) => d.ruleId)).toEqual(['no-unused-params']);
  });

  it('infra/azuredeploy.json is exactly what main.bicep compiles to (else: npm run infra:build)', (ctx) => {
    requireTool(ctx, 'bicep');
    expect(readFileSync(COMPILED_TEMPLATE, 'utf8')).toBe(compiledMainText());
  });

  it('is a subscription-scope deployment that creates its resource group', (ctx) => {
    requireTool(ctx, 'bicep');
    const template = compiledMain();
    expect(template.$schema).toMatch(/subscriptionDeploymentTemplate\.json#$/);
    const resources = Object.values(template.resources);
    expect(resources.filter((r) => r.type === 'Microsoft.Resources/resourceGroups')).toHaveLength(1);
  });

  it('uses only local modules: nothing to restore from a registry except the Graph extension', () => {
    for (const file of listTemplates()) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/\bmodule\s+\w+\s+'(br|ts)[:/]/);
      expect(text, file).not.toMatch(/\bextension\s+'br:/);
    }
  });
});

describe('Bicep configuration', () => {
  it('the shipped bicepconfig.json takes the Graph extension from its registry', () => {
    expect(readFileSync(SHIPPED_CONFIG, 'utf8')).toContain(JSON.stringify(GRAPH_EXTENSION_REGISTRY_REF));
  });

  it('the CI config differs from the shipped one only in where the Graph extension comes from', (ctx) => {
    requireTool(ctx, 'bicep');
    const shipped = readFileSync(SHIPPED_CONFIG, 'utf8');
    const ci = readFileSync(ciConfigPath(), 'utf8');
    expect(ci).toBe(ciConfigText(shipped, './microsoftgraph-v1.0-1.0.0.tgz'));
    expect(ci).not.toContain('mcr.microsoft.com');
    const differing = shipped.split('\n').filter((line, i) => line !== ci.split('\n')[i]);
    expect(differing).toEqual([`    "microsoftGraphV1": ${JSON.stringify(GRAPH_EXTENSION_REGISTRY_REF)}`]);
  });

  it('every linter rule the config turns off is explained by a comment right above it', () => {
    const lines = readFileSync(SHIPPED_CONFIG, 'utf8').split('\n');
    const offRules = lines
      .map((line, i) => ({ line, i }))
      .filter(({ line }) => /"level":\s*"(off|info)"/.test(line));
    expect(offRules.length).toBeGreaterThan(0);
    for (const { line, i } of offRules) expect(lines[i - 1]?.trim().startsWith('//'), line).toBe(true);
  });
});

describeWithTool('bicep', 'azd parameters', () => {
  const declared = () => compiledMain().parameters ?? {};
  const file = JSON.parse(readFileSync(join(INFRA_DIR, 'main.parameters.json'), 'utf8')) as {
    parameters: Record<string, { value: unknown }>;
  };

  it('main.parameters.json sets only parameters main.bicep declares', () => {
    expect(Object.keys(file.parameters).filter((name) => !(name in declared()))).toEqual([]);
  });

  it('main.parameters.json gives every parameter that has no default, from the azd environment', () => {
    const required = Object.entries(declared())
      .filter(([, p]) => !('defaultValue' in p))
      .map(([name]) => name);
    expect(required.sort()).toEqual(['environmentName', 'location']);
    for (const name of required)
      expect(String(file.parameters[name]?.value)).toMatch(/^\$\{AZURE_[A-Z_]+\}$/);
  });
});
