import { strict as assert } from 'node:assert';
import { ConfigError, loadSettings } from '../src/config';

describe('settings', () => {
  it('has working defaults for local use: embedded simulator, loopback, anonymous', () => {
    const s = loadSettings({});
    assert.equal(s.port, 3978);
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.botAuth, null);
    assert.equal(s.graph.mode, 'embedded');
    assert.equal(s.defaultRedirectUrl, 'https://myapps.microsoft.com');
    assert.deepEqual(s.requests, {
      remindAfterMs: 48 * 3600_000,
      expireAfterMs: 14 * 86_400_000,
      sweepIntervalMs: 300_000,
    });
    assert.deepEqual(s.operations, {
      leaseMs: 60_000,
      resumeIntervalMs: 30_000,
      retryAfterMs: 15 * 60_000,
      retryMax: 3,
      replicationWaitMs: 15 * 60_000,
    });
    assert.equal(s.shutdownTimeoutMs, 10_000);
    assert.equal(s.databaseUrl, null, 'SQLite at STORE_PATH unless DATABASE_URL is set');
  });

  it('reads the guest lifecycle settings, with their defaults', () => {
    assert.deepEqual(loadSettings({}).guests, {
      resendCooldownMs: 24 * 3600_000,
      reviewIntervalMs: 90 * 86_400_000,
      reviewGraceMs: 14 * 86_400_000,
      reviewDefault: 'remove',
      invitationStaleAfterMs: 30 * 86_400_000,
      sponsorsInEntra: false,
    });
    const s = loadSettings({
      RESEND_COOLDOWN: '1h',
      GUEST_REVIEW_INTERVAL: '30d',
      GUEST_REVIEW_GRACE: '7d',
      GUEST_REVIEW_DEFAULT: 'keep',
      INVITATION_STALE_AFTER: '10d',
      GUEST_SPONSORS_IN_ENTRA: 'true',
    });
    assert.deepEqual(s.guests, {
      resendCooldownMs: 3600_000,
      reviewIntervalMs: 30 * 86_400_000,
      reviewGraceMs: 7 * 86_400_000,
      reviewDefault: 'keep',
      invitationStaleAfterMs: 10 * 86_400_000,
      sponsorsInEntra: true,
    });
    assert.throws(() => loadSettings({ GUEST_REVIEW_DEFAULT: 'delete' }), /GUEST_REVIEW_DEFAULT/);
    assert.throws(() => loadSettings({ GUEST_SPONSORS_IN_ENTRA: 'yes' }), /GUEST_SPONSORS_IN_ENTRA/);
    assert.throws(() => loadSettings({ RESEND_COOLDOWN: '0' }), /RESEND_COOLDOWN/);
  });

  it('exports telemetry only when configured: Application Insights first, then OTLP; OTEL_SDK_DISABLED turns it off', () => {
    const ai =
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';
    assert.deepEqual(loadSettings({}).telemetry, { exporter: 'none' });
    assert.deepEqual(loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: ai }).telemetry, {
      exporter: 'azureMonitor',
      connectionString: ai,
    });
    assert.deepEqual(loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).telemetry, {
      exporter: 'otlp',
    });
    assert.deepEqual(
      loadSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).telemetry,
      { exporter: 'otlp' },
    );
    assert.equal(
      loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: ai, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })
        .telemetry.exporter,
      'azureMonitor',
    );
    assert.deepEqual(loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: ai, OTEL_SDK_DISABLED: 'true' }).telemetry, {
      exporter: 'none',
    });
    assert.throws(
      () => loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'not-a-connection-string' }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    );
    assert.throws(
      () => loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
    assert.equal(loadSettings({}).databasePoolMax, 10);
    assert.equal(loadSettings({ DATABASE_POOL_MAX: '5' }).databasePoolMax, 5);
  });

  it('reads a retention per kind of data, with defaults, and refuses one shorter than what needs the data', () => {
    assert.deepEqual(loadSettings({}).retention, {
      sweepIntervalMs: 3600_000,
      auditMs: 365 * 86_400_000,
      removedGuestsMs: 90 * 86_400_000,
      finishedOperationsMs: 30 * 86_400_000,
      closedRequestsMs: 90 * 86_400_000,
      dialogStateMs: 7 * 86_400_000,
      reviewStateMs: 60 * 86_400_000,
      rateKeysMs: 7 * 86_400_000,
      alertsMs: 90 * 86_400_000,
    });
    const s = loadSettings({
      AUDIT_RETENTION: '730d',
      REQUEST_RETENTION: '30d',
      DIALOG_STATE_RETENTION: '2d',
      RETENTION_SWEEP_INTERVAL: '15m',
    });
    assert.equal(s.retention.auditMs, 730 * 86_400_000);
    assert.equal(s.retention.closedRequestsMs, 30 * 86_400_000);
    assert.equal(s.retention.dialogStateMs, 2 * 86_400_000);
    assert.equal(s.retention.sweepIntervalMs, 15 * 60_000);
    assert.throws(() => loadSettings({ AUDIT_RETENTION: 'forever' }), /AUDIT_RETENTION/);
    assert.throws(
      () => loadSettings({ REVIEW_STATE_RETENTION: '7d' }),
      /REVIEW_STATE_RETENTION must be at least GUEST_REVIEW_GRACE/,
    );
    assert.throws(
      () => loadSettings({ RATE_KEY_RETENTION: '12h' }),
      /RATE_KEY_RETENTION must be at least RESEND_COOLDOWN/,
    );
    assert.throws(
      () => loadSettings({ OPERATION_RETENTION: '1d' }),
      /OPERATION_RETENTION must be at least the automatic retries/,
    );
    assert.throws(() => loadSettings({ ALERT_RETENTION: '1h' }), /ALERT_RETENTION/);
  });

  it('reads DATABASE_URL (PostgreSQL) as given', () => {
    const url = 'postgres://bot:p%40ss@db.example.net:5432/guestinvite?sslmode=require';
    assert.equal(loadSettings({ DATABASE_URL: url }).databaseUrl, url);
    assert.equal(
      loadSettings({ DATABASE_URL: 'postgresql://localhost/bot' }).databaseUrl,
      'postgresql://localhost/bot',
    );
  });

  it('reads automatic retries (0 turns them off) and the shutdown bound', () => {
    const s = loadSettings({
      OPERATION_RETRY_AFTER: '2h',
      OPERATION_RETRY_MAX: '0',
      SHUTDOWN_TIMEOUT: '30s',
      REPLICATION_WAIT: '40m',
    });
    assert.equal(s.operations.replicationWaitMs, 40 * 60_000);
    assert.equal(s.operations.retryAfterMs, 2 * 3600_000);
    assert.equal(s.operations.retryMax, 0);
    assert.equal(s.shutdownTimeoutMs, 30_000);
  });

  it('reads the bulk invitation settings, 100 addresses and 5 minutes by default', () => {
    assert.deepEqual(loadSettings({}).bulk, { maxAddresses: 100, recheckAfterMs: 5 * 60_000 });
    assert.deepEqual(loadSettings({ BULK_INVITE_MAX: '250', BULK_RECHECK_AFTER: '90s' }).bulk, {
      maxAddresses: 250,
      recheckAfterMs: 90_000,
    });
  });

  it('reads the file settings: 2 MB, hosts derived from the initial domain by default', () => {
    assert.deepEqual(loadSettings({}).files, {
      maxBytes: 2 * 1024 * 1024,
      maxUncompressedBytes: 20 * 1024 * 1024,
      hosts: [],
    });
    assert.deepEqual(
      loadSettings({ FILE_MAX_BYTES: '1048576', FILE_HOSTS: 'Contoso.SharePoint.com, contoso-my.sharepoint.com' })
        .files,
      {
        maxBytes: 1048576,
        maxUncompressedBytes: 10 * 1048576,
        hosts: ['contoso.sharepoint.com', 'contoso-my.sharepoint.com'],
      },
    );
  });

  it('reads an external simulator, live Graph and bot credentials', () => {
    assert.deepEqual(loadSettings({ GRAPH_BASE_URL: 'http://127.0.0.1:5980/v1.0/' }).graph, {
      mode: 'simulator',
      baseUrl: 'http://127.0.0.1:5980/v1.0',
      token: 'simulator-token',
    });
    const live = loadSettings({
      GRAPH_MODE: 'live',
      GRAPH_TENANT_ID: '8c3f2a6e-4b1d-4f7a-9e2c-5d6b7a8c9e01',
      GRAPH_CLIENT_ID: 'c1',
      GRAPH_CLIENT_SECRET: 's',
      MicrosoftAppId: 'bot',
      MicrosoftAppPassword: 'pw',
      REQUEST_REMIND_AFTER: '90m',
    });
    assert.equal(live.graph.mode, 'live');
    assert.equal(live.host, '0.0.0.0');
    assert.equal(live.botAuth?.appType, 'MultiTenant');
    assert.equal(live.requests.remindAfterMs, 90 * 60_000);
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ GRAPH_MODE: 'cloud' }, 'GRAPH_MODE'],
    [{ GRAPH_MODE: 'live' }, 'GRAPH_TENANT_ID'],
    [{ GRAPH_BASE_URL: 'not a url' }, 'GRAPH_BASE_URL'],
    [{ HOST: '0.0.0.0' }, 'HOST'],
    [{ MicrosoftAppId: 'bot' }, 'MicrosoftAppPassword'],
    [{ MicrosoftAppId: 'bot', MicrosoftAppPassword: 'x', MicrosoftAppType: 'SingleTenant' }, 'MicrosoftAppTenantId'],
    [{ REQUEST_EXPIRE_AFTER: 'soon' }, 'REQUEST_EXPIRE_AFTER'],
    [{ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ OPERATION_RETRY_MAX: '-1' }, 'OPERATION_RETRY_MAX'],
    [{ OPERATION_RETRY_MAX: 'many' }, 'OPERATION_RETRY_MAX'],
    [{ OPERATION_RETRY_AFTER: '0' }, 'OPERATION_RETRY_AFTER'],
    [{ REPLICATION_WAIT: 'soon' }, 'REPLICATION_WAIT'],
    [{ SHUTDOWN_TIMEOUT: 'never' }, 'SHUTDOWN_TIMEOUT'],
    [{ BULK_INVITE_MAX: '0' }, 'BULK_INVITE_MAX'],
    [{ BULK_INVITE_MAX: '1001' }, 'BULK_INVITE_MAX'],
    [{ BULK_RECHECK_AFTER: 'later' }, 'BULK_RECHECK_AFTER'],
    [{ FILE_MAX_BYTES: '30000000' }, 'FILE_MAX_BYTES'],
    [{ FILE_HOSTS: 'https://contoso.sharepoint.com/' }, 'FILE_HOSTS'],
    [{ INVITE_REDIRECT_URL_DEFAULT: 'ftp://x' }, 'INVITE_REDIRECT_URL_DEFAULT'],
    [{ DATABASE_URL: 'db.example.net' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://db.example.net/bot' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db.example.net' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db.example.net/bot?sslmode=sometimes' }, 'DATABASE_URL'],
  ];
  for (const [env, variable] of bad) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => loadSettings(env),
        (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.includes(variable),
      );
    });
  }
});
