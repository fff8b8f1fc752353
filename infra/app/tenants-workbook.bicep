// An Azure Monitor workbook with the per-tenant and per-site figures of a multitenant deployment
// (docs/multi-tenant.md): messages sent, queued, held (tenant consent withdrawn) and failed, the last error,
// and the tenants' consent changes - from the function's log lines in Application Insights (every message line
// carries `site` and `tenant`, log-events.md).

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Resource id of the Application Insights component the function logs to.')
param applicationInsightsId string

@description('Display name of the workbook.')
param displayName string

var outcomes = 'traces | extend e = parse_json(message) | where tostring(e.event) in ("MESSAGE_SENT", "MESSAGE_QUEUED", "MESSAGE_HELD", "MESSAGE_FAILED", "MESSAGE_REJECTED") | extend tenant = tostring(e.tenant), site = tostring(e.site), event = tostring(e.event), code = tostring(e.code)'
var figures = 'sent = countif(event == "MESSAGE_SENT"), queued = countif(event == "MESSAGE_QUEUED"), held = countif(event == "MESSAGE_HELD"), failed = countif(event in ("MESSAGE_FAILED", "MESSAGE_REJECTED")), lastError = take_anyif(code, isnotempty(code)), lastErrorAt = maxif(timestamp, isnotempty(code))'

var content = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'intro'
      content: {
        json: '## Tenants and sites\nMessages per customer tenant and per site. *Held* = queued because the tenant withdrew consent (`TENANT_CONSENT_REVOKED`); they go out by themselves when it consents again. `npm run admin -- tenant show` has the same figures from the state table.'
      }
    }
    {
      type: 9
      name: 'time'
      content: {
        version: 'KqlParameterItem/1.0'
        parameters: [
          {
            id: 'timerange'
            version: 'KqlParameterItem/1.0'
            name: 'TimeRange'
            type: 4
            isRequired: true
            value: { durationMs: 86400000 }
            typeSettings: { allowCustom: true }
          }
        ]
      }
    }
    {
      type: 3
      name: 'per-tenant'
      content: {
        version: 'KqlItem/1.0'
        title: 'Per tenant'
        query: '${outcomes} | summarize ${figures} by tenant | order by failed desc, held desc'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
    {
      type: 3
      name: 'per-site'
      content: {
        version: 'KqlItem/1.0'
        title: 'Per site'
        query: '${outcomes} | summarize ${figures} by tenant, site | order by tenant asc, site asc'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
    {
      type: 3
      name: 'consent-changes'
      content: {
        version: 'KqlItem/1.0'
        title: 'Consent changes (granted, revoked with its AADSTS code)'
        query: 'traces | extend e = parse_json(message) | where tostring(e.event) in ("TENANT_STATE_CHANGED", "CONSENT_CALLBACK") | project timestamp, event = tostring(e.event), tenant = tostring(e.tenant), consent = tostring(e.consent), outcome = tostring(e.outcome), code = tostring(e.code) | order by timestamp desc'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsightsId, 'smtp-graph-bridge-tenants')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string(content)
  }
}

output id string = workbook.id
