// Azure resources for the Guest Invite bot:
//   - a user-assigned managed identity (Graph access when no client secret is configured),
//   - a Linux App Service plan (instanceCount instances) and web app on Node 22 that hosts the bot,
//   - an Azure Database for PostgreSQL flexible server with private access (a delegated subnet of a virtual
//     network the web app joins, a private DNS zone, no public access, TLS required), whose database is the
//     bot's store (DATABASE_URL), so every instance serves the same bot,
//   - an Azure Bot registration (single tenant) with the Microsoft Teams channel.
// Deployed by the arm/deploy action of teamsapp.yml with azure.parameters.json.

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
@maxValue(10)
@description('Instances of the web app; they share the PostgreSQL store, so any of them may take any activity.')
param instanceCount int = 2

@description('Administrator login of the PostgreSQL server (the bot connects with it).')
param postgresAdminLogin string = 'guestinvite'

@secure()
@minLength(12)
@description('Administrator password of the PostgreSQL server.')
param postgresAdminPassword string

@description('PostgreSQL compute size (Burstable B1ms is enough for the bot).')
param postgresSkuName string = 'Standard_B1ms'

@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@allowed([
  'live'
  'simulator'
])
param graphMode string = 'live'

@description('Tenant the bot manages through Microsoft Graph; the bot\'s tenant when empty.')
param graphTenantId string = ''

@description('App registration used for Graph with graphClientSecret; the managed identity is used when the secret is empty.')
param graphClientId string = ''

@secure()
param graphClientSecret string = ''

@description('Where guests land after redeeming an invitation.')
param inviteRedirectUrlDefault string = ''

var suffix = empty(resourceSuffix) ? take(uniqueString(resourceGroup().id), 6) : resourceSuffix
var baseName = toLower('${resourceBaseName}${suffix}')
var appTenantId = empty(botTenantId) ? tenant().tenantId : botTenantId
var useClientSecret = !empty(graphClientSecret)
var port = '8080'
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

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
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
      delegatedSubnetResourceId: '${vnet.id}/subnets/postgres'
      privateDnsZoneArmResourceId: postgresDns.id
    }
  }
  dependsOn: [
    postgresDnsLink
  ]
}

// Only TLS connections are accepted (the bot connects with sslmode=require).
resource postgresTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2022-12-01' = {
  parent: postgres
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
}

resource postgresDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
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

var databaseUrl = 'postgres://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'

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

var commonSettings = [
  {
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'true'
  }
  {
    name: 'PORT'
    value: port
  }
  {
    name: 'WEBSITES_PORT'
    value: port
  }
  {
    name: 'MicrosoftAppId'
    value: botAadAppClientId
  }
  {
    name: 'MicrosoftAppPassword'
    value: botAadAppClientSecret
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
    name: 'GRAPH_MODE'
    value: graphMode
  }
  {
    name: 'GRAPH_TENANT_ID'
    value: empty(graphTenantId) ? appTenantId : graphTenantId
  }
  {
    name: 'GRAPH_CLIENT_ID'
    value: useClientSecret ? graphClientId : identity.properties.clientId
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identity.properties.clientId
  }
  {
    // Not used while DATABASE_URL is set (kept for a single-instance SQLite fallback).
    name: 'STORE_PATH'
    value: '/home/data/bot.sqlite'
  }
  {
    name: 'INVITE_REDIRECT_URL_DEFAULT'
    value: redirectUrl
  }
]

var secretSettings = concat(useClientSecret ? [
  {
    name: 'GRAPH_CLIENT_SECRET'
    value: graphClientSecret
  }
] : [], [
  {
    name: 'DATABASE_URL'
    value: databaseUrl
  }
])

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
    httpsOnly: true
    // Bot Service's requests go to any instance: the store is shared.
    clientAffinityEnabled: false
    virtualNetworkSubnetId: '${vnet.id}/subnets/app'
    siteConfig: {
      vnetRouteAllEnabled: true
      linuxFxVersion: 'NODE|22-lts'
      appCommandLine: 'node --max-semi-space-size=2 dist/src/index.js'
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

// Outputs are written to env/.env.<environment> by the arm/deploy action.
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output BOT_DOMAIN string = webApp.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
output BOT_MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output BOT_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
