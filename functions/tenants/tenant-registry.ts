import type { TableClient } from '@azure/data-tables';

import { bridgeError } from '../../core/errors';
import type { MailPermissionModel } from '../../core/mail-grants';
import { statusOf, toStorageError } from '../state/storage-errors';
import type { ConsentState, SecretVersion, SiteRecord, TenantRecord } from './registry-records';

/**
 * The tenant and site registry in Table Storage (BRIDGE_REGISTRY_TABLE). One table, four partitions:
 *   tenant  / tenant id       – TenantRecord
 *   site    / site id         – SiteRecord (arrays and maps as JSON text)
 *   consent / state nonce     – which tenant an admin-consent answer belongs to (consent-flow.ts)
 *   rate    / site id         – the per-site rate window (site-rate-limit.ts)
 * Updates that read before they write are conditional on the row's ETag.
 */
const TENANT = 'tenant';
const SITE = 'site';
const CONSENT = 'consent';

interface TenantEntity {
  partitionKey: string;
  rowKey: string;
  displayName: string;
  permissionModel: string;
  consent: string;
  consentChangedAt: string;
  consentReason?: string;
  lastTokenSuccessAt?: string;
  lastTokenFailureAt?: string;
  lastTokenErrorCode?: string;
  servicePrincipalObjectId?: string;
  createdAt: string;
}

interface SiteEntity {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  allowedSendersJson: string;
  defaultSender?: string;
  deviceBindingsJson?: string;
  secretsJson: string;
  enabled: boolean;
  ratePerMinute?: number;
  createdAt: string;
}

export interface ConsentRequest {
  state: string;
  tenantId: string;
  createdAt: string;
}

export class TenantRegistry {
  readonly #table: TableClient;
  readonly #messages: TableClient | undefined;
  #ready: Promise<void> | undefined;

  /** `messages`: the message state table (BRIDGE_STATE_TABLE), read for the per-site figures only. */
  constructor(table: TableClient, messages?: TableClient) {
    this.#table = table;
    this.#messages = messages;
  }

  get messagesTable(): TableClient {
    if (!this.#messages) throw bridgeError('INTERNAL', { detail: 'registry built without the state table' });
    return this.#messages;
  }

  get table(): TableClient {
    return this.#table;
  }

  async ready(): Promise<void> {
    this.#ready ??= this.#table.createTable().then(
      () => undefined,
      (err: unknown) => {
        this.#ready = undefined;
        throw toStorageError(err, 'create registry table');
      },
    );
    return this.#ready;
  }

  // ── tenants ────────────────────────────────────────────────────────────────────────────────────────

  async addTenant(record: TenantRecord): Promise<TenantRecord> {
    await this.ready();
    try {
      const res = await this.#table.createEntity(tenantEntity(record));
      return { ...record, ...(res.etag ? { etag: res.etag } : {}) };
    } catch (err) {
      if (statusOf(err) === 409)
        throw bridgeError('ADMIN_REQUEST_INVALID', { detail: `tenant ${record.tenantId} exists already` });
      throw toStorageError(err, 'add tenant');
    }
  }

  async getTenant(tenantId: string): Promise<TenantRecord | undefined> {
    const e = await this.#get<TenantEntity>(TENANT, tenantId.toLowerCase());
    return e ? fromTenantEntity(e) : undefined;
  }

  async listTenants(): Promise<TenantRecord[]> {
    return (await this.#list<TenantEntity>(TENANT)).map(fromTenantEntity);
  }

  async removeTenant(tenantId: string): Promise<boolean> {
    return this.#delete(TENANT, tenantId.toLowerCase());
  }

  /**
   * Read-modify-write of a tenant row, retried on ETag conflicts; `change` returns undefined to leave the row
   * alone. Returns the row as written (or as read when unchanged); undefined when the tenant is unknown.
   */
  async updateTenant(
    tenantId: string,
    change: (t: TenantRecord) => Partial<TenantRecord> | undefined,
  ): Promise<TenantRecord | undefined> {
    for (let i = 0; i < 10; i++) {
      const current = await this.getTenant(tenantId);
      if (!current) return undefined;
      const changes = change(current);
      if (!changes) return current;
      const next: TenantRecord = { ...current, ...changes };
      try {
        const res = await this.#table.updateEntity(tenantEntity(next), 'Replace', {
          etag: current.etag ?? '*',
        });
        return { ...next, ...(res.etag ? { etag: res.etag } : {}) };
      } catch (err) {
        if (statusOf(err) !== 412) throw toStorageError(err, 'update tenant');
      }
    }
    throw bridgeError('STORAGE_UNAVAILABLE', { detail: 'tenant row kept changing (ETag conflicts)' });
  }

  // ── sites ──────────────────────────────────────────────────────────────────────────────────────────

  async addSite(record: SiteRecord): Promise<SiteRecord> {
    await this.ready();
    try {
      const res = await this.#table.createEntity(siteEntity(record));
      return { ...record, ...(res.etag ? { etag: res.etag } : {}) };
    } catch (err) {
      if (statusOf(err) === 409)
        throw bridgeError('ADMIN_REQUEST_INVALID', { detail: `site ${record.siteId} exists already` });
      throw toStorageError(err, 'add site');
    }
  }

  async getSite(siteId: string): Promise<SiteRecord | undefined> {
    const e = await this.#get<SiteEntity>(SITE, siteId);
    return e ? fromSiteEntity(e) : undefined;
  }

  async listSites(tenantId?: string): Promise<SiteRecord[]> {
    const all = (await this.#list<SiteEntity>(SITE)).map(fromSiteEntity);
    return tenantId ? all.filter((s) => s.tenantId === tenantId.toLowerCase()) : all;
  }

  async updateSite(
    siteId: string,
    change: (s: SiteRecord) => Partial<SiteRecord> | undefined,
  ): Promise<SiteRecord | undefined> {
    for (let i = 0; i < 10; i++) {
      const current = await this.getSite(siteId);
      if (!current) return undefined;
      const changes = change(current);
      if (!changes) return current;
      const next: SiteRecord = { ...current, ...changes };
      try {
        const res = await this.#table.updateEntity(siteEntity(next), 'Replace', {
          etag: current.etag ?? '*',
        });
        return { ...next, ...(res.etag ? { etag: res.etag } : {}) };
      } catch (err) {
        if (statusOf(err) !== 412) throw toStorageError(err, 'update site');
      }
    }
    throw bridgeError('STORAGE_UNAVAILABLE', { detail: 'site row kept changing (ETag conflicts)' });
  }

  // ── consent requests ───────────────────────────────────────────────────────────────────────────────

  async addConsentRequest(request: ConsentRequest): Promise<void> {
    await this.ready();
    await this.#table
      .createEntity({
        partitionKey: CONSENT,
        rowKey: request.state,
        tenantId: request.tenantId,
        createdAt: request.createdAt,
      })
      .catch((err: unknown) => {
        throw toStorageError(err, 'record consent request');
      });
  }

  async getConsentRequest(state: string): Promise<ConsentRequest | undefined> {
    const e = await this.#get<{ tenantId: string; createdAt: string }>(CONSENT, state);
    return e ? { state, tenantId: e.tenantId, createdAt: e.createdAt } : undefined;
  }

  async removeConsentRequest(state: string): Promise<void> {
    await this.#delete(CONSENT, state);
  }

  // ── rows ───────────────────────────────────────────────────────────────────────────────────────────

  async #get<T extends object>(pk: string, rk: string): Promise<(T & { etag: string }) | undefined> {
    await this.ready();
    try {
      return (await this.#table.getEntity<T>(pk, rk)) as T & { etag: string };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw toStorageError(err, `read ${pk}`);
    }
  }

  async #list<T extends object>(pk: string): Promise<Array<T & { etag: string }>> {
    await this.ready();
    const out: Array<T & { etag: string }> = [];
    try {
      for await (const e of this.#table.listEntities<T>({
        queryOptions: { filter: `PartitionKey eq '${pk}'` },
      }))
        out.push(e as T & { etag: string });
    } catch (err) {
      throw toStorageError(err, `list ${pk}`);
    }
    return out;
  }

  async #delete(pk: string, rk: string): Promise<boolean> {
    await this.ready();
    try {
      await this.#table.deleteEntity(pk, rk);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw toStorageError(err, `delete ${pk}`);
    }
  }
}

function tenantEntity(t: TenantRecord): TenantEntity {
  const e: TenantEntity = {
    partitionKey: TENANT,
    rowKey: t.tenantId.toLowerCase(),
    displayName: t.displayName,
    permissionModel: t.permissionModel,
    consent: t.consent,
    consentChangedAt: t.consentChangedAt,
    createdAt: t.createdAt,
  };
  if (t.consentReason !== undefined) e.consentReason = t.consentReason;
  if (t.lastTokenSuccessAt !== undefined) e.lastTokenSuccessAt = t.lastTokenSuccessAt;
  if (t.lastTokenFailureAt !== undefined) e.lastTokenFailureAt = t.lastTokenFailureAt;
  if (t.lastTokenErrorCode !== undefined) e.lastTokenErrorCode = t.lastTokenErrorCode;
  if (t.servicePrincipalObjectId !== undefined) e.servicePrincipalObjectId = t.servicePrincipalObjectId;
  return e;
}

function fromTenantEntity(e: TenantEntity & { etag: string }): TenantRecord {
  const t: TenantRecord = {
    tenantId: e.rowKey,
    displayName: e.displayName,
    permissionModel: e.permissionModel as MailPermissionModel,
    consent: e.consent as ConsentState,
    consentChangedAt: e.consentChangedAt,
    createdAt: e.createdAt,
    etag: e.etag,
  };
  if (e.consentReason) t.consentReason = e.consentReason;
  if (e.lastTokenSuccessAt) t.lastTokenSuccessAt = e.lastTokenSuccessAt;
  if (e.lastTokenFailureAt) t.lastTokenFailureAt = e.lastTokenFailureAt;
  if (e.lastTokenErrorCode) t.lastTokenErrorCode = e.lastTokenErrorCode;
  if (e.servicePrincipalObjectId) t.servicePrincipalObjectId = e.servicePrincipalObjectId;
  return t;
}

function siteEntity(s: SiteRecord): SiteEntity {
  const e: SiteEntity = {
    partitionKey: SITE,
    rowKey: s.siteId,
    tenantId: s.tenantId.toLowerCase(),
    allowedSendersJson: JSON.stringify(s.allowedSenders),
    secretsJson: JSON.stringify(s.secrets),
    enabled: s.enabled,
    createdAt: s.createdAt,
  };
  if (s.defaultSender !== undefined) e.defaultSender = s.defaultSender;
  if (s.deviceBindings !== undefined) e.deviceBindingsJson = JSON.stringify(s.deviceBindings);
  if (s.ratePerMinute !== undefined) e.ratePerMinute = s.ratePerMinute;
  return e;
}

function fromSiteEntity(e: SiteEntity & { etag: string }): SiteRecord {
  const s: SiteRecord = {
    siteId: e.rowKey,
    tenantId: e.tenantId,
    allowedSenders: JSON.parse(e.allowedSendersJson) as string[],
    secrets: JSON.parse(e.secretsJson) as SecretVersion[],
    enabled: e.enabled,
    createdAt: e.createdAt,
    etag: e.etag,
  };
  if (e.defaultSender) s.defaultSender = e.defaultSender;
  if (e.deviceBindingsJson) s.deviceBindings = JSON.parse(e.deviceBindingsJson) as Record<string, string[]>;
  if (typeof e.ratePerMinute === 'number') s.ratePerMinute = e.ratePerMinute;
  return s;
}
