/**
 * The bot's own Teams app in people's personal scope, over Microsoft Graph v1.0
 * (microsoftgraph/microsoft-graph-docs-contrib,
 * api-reference/v1.0/api/...): list a user's installation of it (userteamwork-list-installedapps.md), install it
 * (userteamwork-post-installedapps.md: 201 with no body) and read the 1:1 chat of an installation
 * (userscopeteamsappinstallation-get-chat.md). All three accept TeamsAppInstallation.ReadWriteSelfForUser.All, which
 * lets the app manage only itself: the manifest's webApplicationInfo.id must be the app id of the token
 * (docs/permissions.md).
 * Errors come through the one mapping (errors.ts); a 403 names that permission.
 */
import { DirectoryError } from './directory';
import { asRecord, str, values, type GraphHttp } from './graphHttp';
import { odataString, q } from './graphValues';
import { needing } from './errors';
import { NEEDS } from './permissions';

/** A user's installation of the bot's app: its id (for /chat) and the app's id in the org catalog. */
export interface AppInstallation {
  installationId: string;
  catalogId: string;
}

/** Which app: its id in the org catalog, or the manifest's id (teamsApp/externalId). */
export type AppRef = { catalogId: string } | { externalId: string };

/** The port: what the bot needs from Graph to reach someone who never installed it. */
export interface TeamsAppInstaller {
  /** The user's installation of the app, or null when they have none. */
  findInstallation(userId: string, app: AppRef): Promise<AppInstallation | null>;
  /**
   * Installs the app for the user: 'installed', or 'alreadyInstalled' on 409. Other refusals are thrown
   * (DirectoryError).
   */
  install(userId: string, catalogId: string): Promise<'installed' | 'alreadyInstalled'>;
  /** The id of the 1:1 chat between the user and the app (`19:…@unq.gbl.spaces`). */
  chatId(userId: string, installationId: string): Promise<string>;
}

export class GraphTeamsAppInstaller implements TeamsAppInstaller {
  constructor(
    private readonly http: GraphHttp,
    private readonly baseUrl = 'https://graph.microsoft.com/v1.0',
  ) {}

  async findInstallation(userId: string, app: AppRef): Promise<AppInstallation | null> {
    const filter =
      'catalogId' in app
        ? `teamsApp/id eq ${odataString(app.catalogId)}`
        : `teamsApp/externalId eq ${odataString(app.externalId)}`;
    const url = `/users/${q(userId)}/teamwork/installedApps?$expand=teamsApp&$filter=${q(filter)}`;
    const response = await needing(NEEDS.teamsAppInstall, () => this.http.get(url));
    for (const raw of values(response.body)) {
      const item = asRecord(raw);
      const catalogId = str(asRecord(item.teamsApp).id);
      const installationId = str(item.id);
      if (catalogId && installationId) return { installationId, catalogId };
    }
    return null;
  }

  async install(userId: string, catalogId: string): Promise<'installed' | 'alreadyInstalled'> {
    const body = { 'teamsApp@odata.bind': `${this.baseUrl}/appCatalogs/teamsApps/${catalogId}` };
    try {
      await needing(NEEDS.teamsAppInstall, () =>
        this.http.send('POST', `/users/${q(userId)}/teamwork/installedApps`, body),
      );
      return 'installed';
    } catch (err) {
      // 409 Conflict: the app is installed for the user already (docs/permissions.md cites the reports).
      if (err instanceof DirectoryError && err.status === 409) return 'alreadyInstalled';
      throw err;
    }
  }

  async chatId(userId: string, installationId: string): Promise<string> {
    const response = await needing(NEEDS.teamsAppInstall, () =>
      this.http.get(`/users/${q(userId)}/teamwork/installedApps/${q(installationId)}/chat?$select=id`),
    );
    const id = str(asRecord(response.body).id);
    if (!id) throw new DirectoryError('unknown', response.status, 'NoChatId', 'The installation has no chat id');
    return id;
  }
}
