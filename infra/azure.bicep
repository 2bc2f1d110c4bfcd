// Azure resources for the Guest Invite bot:
//   - a user-assigned managed identity (Graph access when no client secret is configured),
//   - a Linux App Service plan (instanceCount instances) and web app on Node 22 that hosts the bot,
//   - an Azure Database for PostgreSQL flexible server with private access (a delegated subnet of a virtual
//     network the web app joins, a private DNS zone, no public access, TLS required), whose database is the
//     bot's store (DATABASE_URL), so every instance serves the same bot,
//   - an Azure Bot registration (single tenant) with the Microsoft Teams channel,
//   - a Key Vault holding the secrets the web app reads through Key Vault references,
//   - a Log Analytics workspace, workspace-based Application Insights (the bot's OpenTelemetry goes there),
//     alert rules and a workbook (docs/operations.md),
//   - the managed identity's Microsoft Graph application permissions (infra/graph-permissions.json, the list of
//     src/graph/permissions.ts), granted through the Microsoft Graph Bicep extension.
// Deployed by the arm/deploy action of teamsapp.yml with azure.parameters.json.

// Microsoft Graph resources (bicepconfig.json names the extension's registry version).
extension microsoftGraphV1

@maxLength(14)
@minLength(3)
@description('Prefix of every resource name.')
param resourceBaseName string = 'guestinv'

@maxLength(12)
@description('Suffix that makes resource names globally unique; derived from the resource group when empty.')
param resourceSuffix string = ''

@description('Client (application) id of the bot\'s Microsoft Entra app registration.')
param botAadAppClientId string

@secure()
@description('Client secret of the bot\'s app registration.')
param botAadAppClientSecret string

@description('Tenant of the bot\'s single-tenant app registration; the deployment\'s tenant when empty.')
param botTenantId string = ''

@maxLength(42)
param botDisplayName string = 'Guest Invite'

@description('App Service plan SKU. Basic (B1) or higher: the bot needs Always On.')
param webAppSku string = 'B1'

param location string = resourceGroup().location

@minValue(1)
@maxValue(3)
@description('Instances of the web app; they share the PostgreSQL store, so any of them may take any activity. Basic plans allow at most 3.')
param instanceCount int = 2

@minValue(2)
@maxValue(30)
@description('PostgreSQL connections per instance: instances x this, doubled while a restart overlaps, stays under B1ms\'s 35.')
param databasePoolMax int = 5

@description('Administrator login of the PostgreSQL server (the bot connects with it).')
param postgresAdminLogin string = 'guestinvite'

@secure()
@minLength(12)
@description('Administrator password of the PostgreSQL server.')
param postgresAdminPassword string

@description('PostgreSQL compute size (Burstable B1ms is enough for the bot); the tier follows from the name.')
param postgresSkuName string = 'Standard_B1ms'

@secure()
@description('Password of the bot\'s own PostgreSQL role (not the administrator); \'none\' (or empty) until that role exists.')
param postgresAppPassword string = 'none'

@description('Login of the bot\'s own PostgreSQL role, created once by `npm run store:role` (docs/several-instances.md).')
param postgresAppLogin string = 'guestinvite_app'

@allowed([
  'live'
  'simulator'
])
param graphMode string = 'live'

// The toolkit stops on an empty ${{VAR}} in azure.parameters.json, so the env files carry sentinels instead of
// empty values: 'default', 'managed-identity' and 'none' mean "not set" here.
@description('Tenant the bot manages through Microsoft Graph; \'default\' (or empty): the bot\'s tenant.')
param graphTenantId string = 'default'

@description('App registration used for Graph with graphClientSecret; \'managed-identity\' (or empty): the managed identity.')
param graphClientId string = 'managed-identity'

@secure()
@description('Client secret for graphClientId; \'none\' (or empty): the managed identity is used.')
param graphClientSecret string = 'none'

@description('Where guests land after redeeming an invitation.')
param inviteRedirectUrlDefault string = ''

@description('Grant the managed identity its Graph application permissions here (needs Privileged Role Administrator, docs/teams-app.md).')
param grantGraphPermissions bool = true

@description('Minutes a new guest may take to replicate (REPLICATION_WAIT); the stuck-operation alert fires 15 minutes later.')
param replicationWaitMinutes int = 15

@description('Address that receives the alerts; empty: alerts show in the portal only.')
param alertEmail string = ''

var suffix = empty(resourceSuffix) ? take(uniqueString(resourceGroup().id), 6) : resourceSuffix
var baseName = toLower('${resourceBaseName}${suffix}')
var appTenantId = empty(botTenantId) ? tenant().tenantId : botTenantId
var useClientSecret = !empty(graphClientSecret) && graphClientSecret != 'none'
var graphTenant = empty(graphTenantId) || graphTenantId == 'default' ? appTenantId : graphTenantId
var graphClient = useClientSecret && !empty(graphClientId) && graphClientId != 'managed-identity' ? graphClientId : ''
var useAppRole = !empty(postgresAppPassword) && postgresAppPassword != 'none'
var postgresSkuTier = startsWith(postgresSkuName, 'Standard_B') ? 'Burstable' : (contains(postgresSkuName, '_E') ? 'MemoryOptimized' : 'GeneralPurpose')
var redirectUrl = empty(inviteRedirectUrlDefault) ? 'https://myapps.microsoft.com' : inviteRedirectUrlDefault
var databaseName = 'guestinvite'

// Private access: the server lives in a subnet delegated to it; the web app reaches it through VNet integration.
resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' = {
  name: '${baseName}-vnet'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.40.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.40.1.0/24'
          delegations: [
            {
              name: 'webapp'
              properties: {
                serviceName: 'Microsoft.Web/serverFarms'
              }
            }
          ]
        }
      }
      {
        name: 'postgres'
        properties: {
          addressPrefix: '10.40.2.0/24'
          delegations: [
            {
              name: 'postgres'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

resource postgresDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: '${baseName}.private.postgres.database.azure.com'
  location: 'global'
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: postgresDns
  name: '${baseName}-vnet-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: '${baseName}-pg'
  location: location
  sku: {
    name: postgresSkuName
    tier: postgresSkuTier
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: {
      storageSizeGB: 32
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      delegatedSubnetResourceId: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'postgres')
      privateDnsZoneArmResourceId: postgresDns.id
    }
  }
  dependsOn: [
    postgresDnsLink
  ]
}

// Only TLS connections are accepted (the bot connects with sslmode=verify-full).
resource postgresTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  // One change at a time: the server refuses concurrent ones.
  dependsOn: [
    postgresTls
  ]
}

// The bot connects as its own role once it exists (postgresAppPassword set); before that, on the first provision,
// as the administrator, which is then used once more to create that role (npm run store:role).
var databaseLogin = useAppRole ? postgresAppLogin : postgresAdminLogin
var databasePassword = useAppRole ? postgresAppPassword : postgresAdminPassword
var databaseUrl = 'postgres://${uriComponent(databaseLogin)}:${uriComponent(databasePassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=verify-full'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${baseName}-id'
  location: location
}

resource serverfarm 'Microsoft.Web/serverfarms@2022-09-01' = {
  name: '${baseName}-plan'
  location: location
  kind: 'linux'
  sku: {
    name: webAppSku
    capacity: instanceCount
  }
  properties: {
    reserved: true
  }
}

// Secrets live in Key Vault; the web app reads them through Key Vault references with its managed identity.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${baseName}-kv'
  location: location
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bot-password'
  properties: {
    value: botAadAppClientSecret
  }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: databaseUrl
  }
}

resource graphSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (useClientSecret) {
  parent: vault
  name: 'graph-client-secret'
  properties: {
    value: graphClientSecret
  }
}

// Key Vault Secrets User (built-in role 4633458b-17de-408a-b874-0445c86b69e6) for the web app's identity.
resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, 'kv-secrets-user')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry: Log Analytics, and Application Insights on it; the bot exports OpenTelemetry there.
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${baseName}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${baseName}-ai'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    IngestionMode: 'LogAnalytics'
  }
}

var commonSettings = [
  {
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'true'
  }
  {
    name: 'MicrosoftAppId'
    value: botAadAppClientId
  }
  {
    name: 'MicrosoftAppPassword'
    value: '@Microsoft.KeyVault(SecretUri=${botPasswordSecret.properties.secretUri})'
  }
  {
    name: 'MicrosoftAppType'
    value: 'SingleTenant'
  }
  {
    name: 'MicrosoftAppTenantId'
    value: appTenantId
  }
  {
    name: 'ALLOWED_TENANT_IDS'
    value: appTenantId
  }
  {
    name: 'GRAPH_MODE'
    value: graphMode
  }
  {
    name: 'GRAPH_TENANT_ID'
    value: graphTenant
  }
  {
    name: 'GRAPH_CLIENT_ID'
    value: useClientSecret ? graphClient : identity.properties.clientId
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    name: 'DATABASE_URL'
    value: '@Microsoft.KeyVault(SecretUri=${databaseUrlSecret.properties.secretUri})'
  }
  {
    name: 'DATABASE_POOL_MAX'
    value: string(databasePoolMax)
  }
  {
    name: 'REPLICATION_WAIT'
    value: '${replicationWaitMinutes}m'
  }
  {
    name: 'INVITE_REDIRECT_URL_DEFAULT'
    value: redirectUrl
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: insights.properties.ConnectionString
  }
]

var secretSettings = useClientSecret ? [
  {
    name: 'GRAPH_CLIENT_SECRET'
    value: '@Microsoft.KeyVault(SecretUri=${graphSecret.properties.secretUri})'
  }
] : []

resource webApp 'Microsoft.Web/sites@2022-09-01' = {
  name: baseName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: serverfarm.id
    // Key Vault references are resolved with the user-assigned identity.
    keyVaultReferenceIdentity: identity.id
    httpsOnly: true
    // Bot Service's requests go to any instance: the store is shared.
    clientAffinityEnabled: false
    virtualNetworkSubnetId: resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'app')
    siteConfig: {
      // Only private addresses (the database) go through the virtual network; Bot Framework, Entra and Graph do not.
      vnetRouteAllEnabled: false
      // Readiness (store reachable, Graph token obtainable): an instance that fails it leaves the rotation.
      healthCheckPath: '/health/ready'
      linuxFxVersion: 'NODE|22-lts'
      appCommandLine: 'node --max-semi-space-size=2 --disable-warning=DEP0111 dist/src/index.js'
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(commonSettings, secretSettings)
    }
  }
  dependsOn: [
    postgresDatabase
    postgresTls
    vaultReader
  ]
}

resource botService 'Microsoft.BotService/botServices@2022-09-15' = {
  name: baseName
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: 'F0'
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppId: botAadAppClientId
    msaAppTenantId: appTenantId
    msaAppType: 'SingleTenant'
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: botService
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

// The managed identity's Graph application permissions: exactly the list in graph-permissions.json, which a test
// compares with src/graph/permissions.ts. Only for the managed-identity path (a client secret's app registration
// gets its permissions by admin consent, docs/teams-app.md). The deploying user needs Privileged Role Administrator.
var graphPermissions = loadJsonContent('graph-permissions.json')
var grantToIdentity = grantGraphPermissions && !useClientSecret && graphMode == 'live'

resource graphApi 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

resource graphGrants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in graphPermissions: if (grantToIdentity) {
  appRoleId: filter(graphApi.appRoles, role => role.value == permission)[0].id
  principalId: identity.properties.principalId
  resourceId: graphApi.id
}]

module monitoring 'monitoring.bicep' = {
  name: 'guest-invite-monitoring'
  params: {
    baseName: baseName
    location: location
    insightsId: insights.id
    webAppId: webApp.id
    replicationWaitMinutes: replicationWaitMinutes
    alertEmail: alertEmail
  }
}

// Outputs are written to env/.env.<environment> by the arm/deploy action.
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output BOT_DOMAIN string = webApp.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
output BOT_MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output BOT_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output APPLICATIONINSIGHTS_RESOURCE_ID string = insights.id
