// Alert rules and the workbook over the bot's Application Insights (metrics from src/telemetry, docs/operations.md).
// Metric names are the OpenTelemetry instrument names, found in the customMetrics table with their attributes in
// customDimensions.

param baseName string
param location string
@description('Application Insights component the bot exports to.')
param insightsId string
param webAppId string
@description('REPLICATION_WAIT in minutes; an operation unfinished for 15 minutes longer is stuck.')
param replicationWaitMinutes int
@description('Address that receives the alerts; empty: no action group, alerts show in the portal only.')
param alertEmail string = ''

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${baseName}-alerts'
  location: 'global'
  properties: {
    groupShortName: 'guestinvite'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? {} : {
  actionGroups: [
    actionGroup.id
  ]
}

var stuckSeconds = (replicationWaitMinutes + 15) * 60

var queries = [
  {
    name: 'operations-failing'
    severity: 2
    description: 'Invitations, approvals or removals ended failed (guestinvite.* outcome=failed) in the last 15 minutes.'
    query: 'customMetrics | where name in ("guestinvite.invitations", "guestinvite.approvals", "guestinvite.removals") | where tostring(customDimensions.outcome) endswith "failed" | summarize failed = sum(valueSum) | where failed > 0'
  }
  {
    name: 'operation-stuck'
    severity: 2
    description: 'The oldest unfinished directory operation is older than REPLICATION_WAIT + 15 minutes.'
    query: 'customMetrics | where name == "guestinvite.operations.oldest_age" | summarize oldest = max(valueMax) | where oldest > ${stuckSeconds}'
  }
  {
    name: 'graph-5xx'
    severity: 3
    description: 'More than 5% of Graph requests answered 5xx in the last 15 minutes.'
    query: 'customMetrics | where name == "guestinvite.graph.requests" | extend status = toint(customDimensions["http.response.status_code"]) | summarize total = sum(valueSum), failed = sumif(valueSum, status >= 500) | where total > 20 and failed * 20 > total'
  }
  {
    name: 'graph-throttled'
    severity: 3
    description: 'More than 10% of Graph requests answered 429 in the last 15 minutes.'
    query: 'customMetrics | where name == "guestinvite.graph.requests" | extend status = toint(customDimensions["http.response.status_code"]) | summarize total = sum(valueSum), throttled = sumif(valueSum, status == 429) | where total > 20 and throttled * 10 > total'
  }
]

resource queryAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for q in queries: {
  name: '${baseName}-${q.name}'
  location: location
  properties: {
    displayName: 'Guest Invite: ${q.name}'
    description: q.description
    severity: q.severity
    enabled: true
    scopes: [
      insightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: q.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: actions
  }
}]

// App down: App Service's health check (healthCheckPath /health/ready) below 100% for 10 minutes.
resource appDown 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${baseName}-app-down'
  location: 'global'
  properties: {
    description: 'The web app\'s health check (readiness) fails on some instance.'
    severity: 1
    enabled: true
    scopes: [
      webAppId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'health'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.Web/sites'
          metricName: 'HealthCheckStatus'
          operator: 'LessThan'
          threshold: 100
          timeAggregation: 'Average'
        }
      ]
    }
    actions: empty(alertEmail) ? [] : [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// The workbook's JSON is kept in the repository (workbook.json; its panels are described in docs/operations.md).
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(insightsId, 'guest-invite-workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: 'Guest Invite'
    category: 'workbook'
    sourceId: insightsId
    serializedData: loadTextContent('workbook.json')
  }
}
