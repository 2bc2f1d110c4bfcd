import { strict as assert } from 'node:assert';
import { Client, contractProblems, ids, q, start, ungrantedDemoSeed, type GraphItem } from './helpers';

const EVENTUAL = { ConsistencyLevel: 'eventual' };

function idsOf(items: GraphItem[] | undefined): string[] {
  return (items ?? []).map((i) => String(i.id));
}

describe('simulator reads (real HTTP)', () => {
  let c: Client;

  beforeEach(async () => {
    c = await start({ token: 'test-token' });
  });
  afterEach(async () => {
    const problems = contractProblems(
      c,
      (e) => e.url.includes('/bogus') || e.url.startsWith('/beta') || e.method === 'DELETE',
    );
    await c.sim.close();
    assert.deepEqual(problems, []);
  });

  describe('authentication and errors', () => {
    it('answers 401 InvalidAuthenticationToken without a bearer token, or with another token than the configured one', async () => {
      const anonymous = new Client(c.sim, null);
      const r = await anonymous.get('/users');
      assert.equal(r.status, 401);
      assert.equal(r.body.error?.code, 'InvalidAuthenticationToken');
      assert.equal(r.body.error?.message, 'Access token is empty.');
      assert.ok(r.headers.get('www-authenticate')?.startsWith('Bearer'));
      const wrong = await new Client(c.sim, 'other-token').get('/users');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error?.code, 'InvalidAuthenticationToken');
    });

    it('puts request-id and client-request-id in the error body and headers', async () => {
      const r = await c.get(`/users/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee`, { 'client-request-id': 'my-correlation' });
      assert.equal(r.status, 404);
      assert.equal(r.body.error?.code, 'Request_ResourceNotFound');
      assert.equal(
        r.body.error?.message,
        "Resource 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' does not exist or one of its queried reference-property objects are not present.",
      );
      const inner = r.body.error?.innerError;
      assert.equal(inner?.['client-request-id'], 'my-correlation');
      assert.equal(r.headers.get('client-request-id'), 'my-correlation');
      assert.match(
        inner?.['request-id'] ?? '',
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.equal(r.headers.get('request-id'), inner?.['request-id']);
      assert.match(inner?.date ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const other = await c.get(`/groups/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee`);
      assert.notEqual(other.body.error?.innerError['request-id'], inner?.['request-id']);
      assert.ok(other.body.error?.innerError['client-request-id']);
    });

    it('answers 400 for unknown segments, invalid ids and versions, and 405 for unsupported methods', async () => {
      const unknown = await c.get('/bogus');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error?.code, 'BadRequest');
      assert.equal(unknown.body.error?.message, "Resource not found for the segment 'bogus'.");
      const deeper = await c.get(`/users/${ids.megan}/bogus`);
      assert.equal(deeper.body.error?.message, "Resource not found for the segment 'bogus'.");
      const invalidId = await c.get('/groups/not-a-guid');
      assert.equal(invalidId.status, 400);
      assert.equal(invalidId.body.error?.code, 'Request_BadRequest');
      assert.equal(invalidId.body.error?.message, "Invalid object identifier 'not-a-guid'.");
      const version = await c.call('GET', `${c.sim.url}/beta/users`);
      assert.equal(version.status, 400);
      assert.equal(version.body.error?.message, 'Invalid version: beta');
      const method = await c.call('DELETE', `/groups/${ids.group(1)}`);
      assert.equal(method.status, 405);
    });

    it('answers 400 for unknown $select properties and malformed $filter', async () => {
      const select = await c.get('/users?$select=id,shoeSize');
      assert.equal(select.status, 400);
      assert.equal(
        select.body.error?.message,
        "Parsing OData Select and Expand failed: Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
      );
      const filter = await c.get(`/users?$filter=${q("mail eq 'unterminated")}`);
      assert.equal(filter.status, 400);
      assert.equal(filter.body.error?.code, 'BadRequest');
      assert.match(filter.body.error?.message ?? '', /^Invalid filter clause/);
      const property = await c.get(`/users?$filter=${q("shoeSize eq '42'")}`);
      assert.equal(
        property.body.error?.message,
        "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
      );
      const top = await c.get('/users?$top=1000');
      assert.equal(top.status, 400);
    });
  });

  describe('users', () => {
    it('lists users with Graph default properties, paging with @odata.nextLink to the end', async () => {
      await c.sim.close();
      c = await start({ pageSize: 3 });
      const first = await c.get('/users');
      assert.equal(first.body['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#users');
      assert.equal(first.body.value?.length, 3);
      assert.ok(first.body['@odata.nextLink']?.startsWith(`${c.sim.graphBaseUrl}/users?`));
      const megan = first.body.value?.[0] ?? {};
      assert.deepEqual(Object.keys(megan).sort(), [
        'businessPhones',
        'displayName',
        'givenName',
        'id',
        'jobTitle',
        'mail',
        'mobilePhone',
        'officeLocation',
        'preferredLanguage',
        'surname',
        'userPrincipalName',
      ]);
      assert.equal(megan['@odata.type'], undefined);
      const { items, pages } = await c.all('/users?$select=id,userType');
      assert.deepEqual(pages, [3, 3, 1]);
      assert.deepEqual(idsOf(items), [ids.megan, ids.adele, ids.alex, ids.lee, ids.patti, ids.jordan, ids.sam]);
      assert.deepEqual(Object.keys(items[5]).sort(), ['id', 'userType']);
      const topped = await c.all('/users?$top=2&$select=id');
      assert.deepEqual(topped.pages, [2, 2, 2, 1]);
    });

    it('honours $top up to 999 when no page size is configured', async () => {
      const r = await c.get('/users?$top=5&$select=id');
      assert.equal(r.body.value?.length, 5);
      const all = await c.get('/users?$top=999&$select=id');
      assert.equal(all.body.value?.length, 7);
      assert.equal(all.body['@odata.nextLink'], undefined);
    });

    it('filters by mail, otherMails/any, userPrincipalName, id, userType and startswith, case-insensitively', async () => {
      const filter = async (expr: string): Promise<string[]> => {
        const r = await c.get(`/users?$filter=${q(expr)}&$select=id,displayName`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return idsOf(r.body.value);
      };
      assert.deepEqual(await filter("mail eq 'JORDAN.RIVERA@fabrikam.com'"), [ids.jordan]);
      assert.deepEqual(await filter("otherMails/any(x:x eq 'sam@NorthwindTraders.com')"), [ids.sam]);
      assert.deepEqual(await filter("otherMails/any(addr: addr eq 'sam@northwindtraders.com')"), [ids.sam]);
      assert.deepEqual(await filter("userPrincipalName eq 'meganb@contoso.com'"), [ids.megan]);
      assert.deepEqual(await filter(`id eq '${ids.lee}'`), [ids.lee]);
      assert.deepEqual(await filter("userType eq 'Guest'"), [ids.jordan, ids.sam]);
      assert.deepEqual(await filter("startswith(displayName,'a')"), [ids.adele, ids.alex]);
      assert.deepEqual(
        await filter(
          "mail eq 'sam@northwindtraders.com' or otherMails/any(x:x eq 'sam@northwindtraders.com') or userPrincipalName eq 'sam@northwindtraders.com'",
        ),
        [ids.sam],
      );
      assert.deepEqual(await filter("userType eq 'Guest' and startswith(displayName,'J')"), [ids.jordan]);
      assert.deepEqual(
        await filter("(userType eq 'Member') and (startswith(displayName,'L') or mail eq 'PattiF@contoso.com')"),
        [ids.lee, ids.patti],
      );
      assert.deepEqual(await filter(`id in ('${ids.megan}', '${ids.sam}')`), [ids.megan, ids.sam]);
      assert.deepEqual(await filter("mail eq 'nobody@adatum.com'"), []);
    });

    it('needs ConsistencyLevel and $count=true for advanced operators, and only then returns @odata.count', async () => {
      const refused = await c.get(`/users?$filter=${q("endswith(mail,'@contoso.com')")}`);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error?.code, 'Request_UnsupportedQuery');
      assert.match(
        refused.body.error?.message ?? '',
        /^Operator 'endsWith' is not supported because the required parameters might be missing/,
      );
      const ne = await c.get(`/users?$filter=${q("userType ne 'Guest'")}&$count=true`);
      assert.equal(ne.body.error?.code, 'Request_UnsupportedQuery');
      const advanced = await c.get(
        `/users?$filter=${q("endswith(mail,'@contoso.com')")}&$count=true&$select=id`,
        EVENTUAL,
      );
      assert.equal(advanced.status, 200);
      assert.equal(advanced.body['@odata.count'], 5);
      assert.equal(advanced.body.value?.length, 5);
      const silent = await c.get('/users?$count=true&$select=id');
      assert.equal(silent.status, 200);
      assert.equal(silent.body['@odata.count'], undefined);
      const counted = await c.get(`/users?$count=true&$top=2&$select=id`, EVENTUAL);
      assert.equal(counted.body['@odata.count'], 7);
      assert.equal(counted.body.value?.length, 2);
      const search = await c.get('/users?$search="displayName:megan"');
      assert.equal(search.body.error?.code, 'Request_UnsupportedQuery');
      const searched = await c.get('/users?$search="displayName:megan"&$select=id', EVENTUAL);
      assert.deepEqual(idsOf(searched.body.value), [ids.megan]);
    });

    it('gets a user by id or by userPrincipalName, with $select', async () => {
      const byId = await c.get(`/users/${ids.sam}?$select=id,mail,userType,externalUserState,creationType`);
      assert.equal(byId.status, 200);
      assert.equal(
        byId.body['@odata.context'],
        'https://graph.microsoft.com/v1.0/$metadata#users(id,mail,userType,externalUserState,creationType)/$entity',
      );
      assert.deepEqual(
        { ...byId.body, '@odata.context': undefined },
        {
          '@odata.context': undefined,
          id: ids.sam,
          mail: 'sam@northwindtraders.com',
          userType: 'Guest',
          externalUserState: 'PendingAcceptance',
          creationType: 'Invitation',
        },
      );
      const byUpn = await c.get(
        `/users/${encodeURIComponent('jordan.rivera_fabrikam.com#EXT#@contoso.onmicrosoft.com')}?$select=id`,
      );
      assert.equal(byUpn.body.id, ids.jordan);
      const member = await c.get('/users/meganb@contoso.com');
      assert.equal(member.body.displayName, 'Megan Bowen');
      assert.equal(member.body.userType, undefined, 'userType is not a default property');
    });

    it('lists owned groups (cast) with @odata.type, and all owned objects', async () => {
      await c.sim.close();
      c = await start({ pageSize: 2 });
      const select = '$select=id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled';
      const { items, pages } = await c.all(`/users/${ids.megan}/ownedObjects/microsoft.graph.group?${select}`);
      assert.deepEqual(pages, [2, 2, 2, 1]);
      assert.deepEqual(idsOf(items), [1, 2, 3, 4, 5, 7, 9].map(ids.group));
      const dynamic = items.find((i) => i.id === ids.group(4));
      assert.deepEqual(dynamic, {
        '@odata.type': '#microsoft.graph.group',
        id: ids.group(4),
        displayName: 'Partner Portal Dynamic Partners',
        groupTypes: ['DynamicMembership'],
        mailEnabled: false,
        securityEnabled: true,
        onPremisesSyncEnabled: null,
      });
      assert.equal(items.find((i) => i.id === ids.group(5))?.onPremisesSyncEnabled, true);
      const short = await c.get(`/users/${ids.lee}/ownedObjects/graph.group?$select=id`);
      assert.deepEqual(idsOf(short.body.value), [ids.group(3), ids.group(8)]);
      const all = await c.all(`/users/${ids.lee}/ownedObjects`);
      assert.deepEqual(
        all.items.map((i) => i['@odata.type']),
        ['#microsoft.graph.group', '#microsoft.graph.group'],
      );
      const adele = await c.get(`/users/${ids.adele}/ownedObjects/microsoft.graph.group?$select=id`);
      assert.deepEqual(idsOf(adele.body.value), [ids.group(4)]);
      const alex = await c.get(`/users/${ids.alex}/ownedObjects/microsoft.graph.group`);
      assert.deepEqual(idsOf(alex.body.value), [ids.group(1)]);
    });

    it('lists memberOf with groups and directory roles, and the directoryRole cast', async () => {
      const patti = await c.get(`/users/${ids.patti}/memberOf`);
      assert.deepEqual(
        patti.body.value?.map((v) => [v['@odata.type'], v.displayName]),
        [['#microsoft.graph.directoryRole', 'Global Administrator']],
      );
      const roles = await c.get(
        `/users/${ids.patti}/memberOf/microsoft.graph.directoryRole?$select=id,displayName,roleTemplateId`,
      );
      assert.equal(roles.body.value?.[0]?.roleTemplateId, '62e90394-69f5-4237-9190-012177145e10');
      assert.equal(
        roles.body['@odata.context'],
        'https://graph.microsoft.com/v1.0/$metadata#directoryRoles(id,displayName,roleTemplateId)',
      );
      const alex = await c.get(`/users/${ids.alex}/memberOf?$select=id,displayName`);
      assert.deepEqual(idsOf(alex.body.value), [ids.group(1), ids.group(9)]);
      const noRoles = await c.get(`/users/${ids.alex}/memberOf/microsoft.graph.directoryRole`);
      assert.deepEqual(noRoles.body.value, []);
      const jordan = await c.get(`/users/${ids.jordan}/memberOf`);
      assert.deepEqual(jordan.body.value, []);
    });

    it("lists a user's app role assignments", async () => {
      const r = await c.get(`/users/${ids.adele}/appRoleAssignments`);
      assert.equal(r.body.value?.length, 1);
      const a = r.body.value?.[0] ?? {};
      assert.equal(a.resourceId, ids.sp(8));
      assert.equal(a.resourceDisplayName, 'Travel Booking');
      assert.equal(a.principalType, 'User');
      assert.equal(a.principalDisplayName, 'Adele Vance');
      assert.equal(a.appRoleId, '00000000-0000-0000-0000-000000000000');
      assert.equal(a.deletedDateTime, null);
      assert.match(String(a.createdDateTime), /^\d{4}-\d\d-\d\dT/);
    });
  });

  describe('groups', () => {
    it('gets a group with $select and $expand=owners($select=id)', async () => {
      const r = await c.get(
        `/groups/${ids.group(1)}?$select=id,displayName,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled&$expand=owners($select=id)`,
      );
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.owners, [
        { '@odata.type': '#microsoft.graph.user', id: ids.megan },
        { '@odata.type': '#microsoft.graph.user', id: ids.alex },
      ]);
      assert.equal(r.body.displayName, 'Expenses External Reviewers');
      assert.equal(r.body.description, undefined);
      const full = await c.get(`/groups/${ids.group(7)}`);
      assert.equal(full.body.mailEnabled, true);
      assert.equal(full.body.securityEnabled, true);
      assert.equal(full.body['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#groups/$entity');
      const missing = await c.get(`/groups/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee`);
      assert.equal(missing.status, 404);
      const badExpand = await c.get(`/groups/${ids.group(1)}?$expand=manager`);
      assert.equal(badExpand.status, 400);
    });

    it('expands at most 20 owners', async () => {
      await c.sim.close();
      const seed = ungrantedDemoSeed();
      for (let i = 0; i < 25; i += 1) {
        const id = `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`;
        seed.users.push({
          id,
          displayName: `Owner ${i}`,
          userPrincipalName: `owner${i}@contoso.com`,
          userType: 'Member',
        });
        seed.groups[8].owners.push(id);
      }
      c = await start({}, seed);
      const r = await c.get(`/groups/${ids.group(9)}?$select=id&$expand=owners($select=id)`);
      assert.equal((r.body.owners as unknown[]).length, 20);
      const owners = await c.all(`/groups/${ids.group(9)}/owners?$select=id`);
      assert.equal(owners.items.length, 26);
    });

    it('checks ownership with $filter=id eq, $count=true and ConsistencyLevel: eventual', async () => {
      const url = (user: string) =>
        `/groups/${ids.group(1)}/owners?$filter=${q(`id eq '${user}'`)}&$count=true&$select=id`;
      const yes = await c.get(url(ids.megan), EVENTUAL);
      assert.equal(yes.status, 200);
      assert.equal(yes.body['@odata.count'], 1);
      assert.deepEqual(yes.body.value, [{ '@odata.type': '#microsoft.graph.user', id: ids.megan }]);
      const no = await c.get(url(ids.adele), EVENTUAL);
      assert.equal(no.body['@odata.count'], 0);
      assert.deepEqual(no.body.value, []);
      const plain = await c.get(`/groups/${ids.group(3)}/owners`);
      assert.deepEqual(idsOf(plain.body.value), [ids.megan, ids.lee]);
      assert.equal(plain.body.value?.[0]?.['@odata.type'], '#microsoft.graph.user');
      assert.equal(plain.body.value?.[0]?.userPrincipalName, 'MeganB@contoso.com');
      const none = await c.get(`/groups/${ids.group(6)}/owners`);
      assert.deepEqual(none.body.value, []);
    });

    it('lists owner references and casts an owner to user', async () => {
      const refs = await c.get(`/groups/${ids.group(1)}/owners/$ref`);
      assert.equal(refs.status, 200);
      assert.deepEqual(
        refs.body.value?.map((v) => v['@odata.id']),
        [ids.megan, ids.alex].map(
          (id) =>
            `https://graph.microsoft.com/v2/${ids.tenant}/directoryObjects/${id}/Microsoft.DirectoryServices.User`,
        ),
      );
      for (const cast of ['microsoft.graph.user', 'graph.user']) {
        const owner = await c.get(`/groups/${ids.group(1)}/owners/${ids.alex}/${cast}?$select=id,displayName`);
        assert.equal(owner.status, 200);
        assert.equal(owner.body.displayName, 'Alex Wilber');
      }
      const notOwner = await c.get(`/groups/${ids.group(1)}/owners/${ids.adele}/microsoft.graph.user`);
      assert.equal(notOwner.status, 404);
      assert.equal(notOwner.body.error?.code, 'Request_ResourceNotFound');
    });

    it('lists members with $select, $filter and $count, paging to the end; $filter without the advanced-query pair is refused (group-list-members.md)', async () => {
      await c.sim.close();
      c = await start({ pageSize: 1 });
      const { items, pages } = await c.all(`/groups/${ids.group(1)}/members?$select=id,displayName,mail,userType`);
      assert.deepEqual(pages, [1, 1]);
      assert.deepEqual(items, [
        {
          '@odata.type': '#microsoft.graph.user',
          id: ids.alex,
          displayName: 'Alex Wilber',
          mail: 'AlexW@contoso.com',
          userType: 'Member',
        },
        {
          '@odata.type': '#microsoft.graph.user',
          id: ids.sam,
          displayName: 'Sam Lee',
          mail: 'sam@northwindtraders.com',
          userType: 'Guest',
        },
      ]);
      const guests = await c.get(
        `/groups/${ids.group(1)}/members?$filter=${q("userType eq 'Guest'")}&$count=true&$select=id`,
        EVENTUAL,
      );
      assert.equal(guests.body['@odata.count'], 1);
      assert.deepEqual(idsOf(guests.body.value), [ids.sam]);
      const byMail = await c.get(
        `/groups/${ids.group(1)}/members?$filter=${q("mail eq 'SAM@northwindtraders.com'")}&$count=true&$select=id`,
        EVENTUAL,
      );
      assert.deepEqual(idsOf(byMail.body.value), [ids.sam]);
      // Changed: $filter on members is an advanced query even with eq (group-list-members.md), so without the
      // header and $count=true Graph answers 400 Request_UnsupportedQuery.
      const plainFilter = await c.get(
        `/groups/${ids.group(1)}/members?$filter=${q("mail eq 'SAM@northwindtraders.com'")}&$select=id`,
      );
      assert.equal(plainFilter.status, 400);
      assert.equal(plainFilter.body.error?.code, 'Request_UnsupportedQuery');
      const empty = await c.get(`/groups/${ids.group(3)}/members`);
      assert.deepEqual(empty.body.value, []);
    });

    it("lists a group's app role assignments with $select", async () => {
      const r = await c.get(
        `/groups/${ids.group(2)}/appRoleAssignments?$select=id,resourceId,resourceDisplayName,principalId,principalType,appRoleId`,
      );
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body.value?.[0] ?? {}).sort(), [
        'appRoleId',
        'id',
        'principalId',
        'principalType',
        'resourceDisplayName',
        'resourceId',
      ]);
      assert.equal(r.body.value?.[0]?.resourceId, ids.sp(2));
      assert.equal(r.body.value?.[0]?.resourceDisplayName, 'Contoso Wiki');
      assert.equal(r.body.value?.[0]?.principalType, 'Group');
      assert.equal(
        r.body['@odata.context'],
        `https://graph.microsoft.com/v1.0/$metadata#groups('${ids.group(2)}')/appRoleAssignments(id,resourceId,resourceDisplayName,principalId,principalType,appRoleId)`,
      );
      const unassigned = await c.get(`/groups/${ids.group(9)}/appRoleAssignments`);
      assert.deepEqual(unassigned.body.value, []);
    });
  });

  describe('service principals, roles and tenant', () => {
    it('gets a service principal with $select and lists them with $filter', async () => {
      const r = await c.get(`/servicePrincipals/${ids.sp(2)}?$select=id,appId,displayName,homepage,loginUrl`);
      assert.deepEqual(
        { ...r.body, '@odata.context': undefined },
        {
          '@odata.context': undefined,
          id: ids.sp(2),
          appId: ids.appId(2),
          displayName: 'Contoso Wiki',
          homepage: null,
          loginUrl: 'https://wiki.contoso.com/login',
        },
      );
      const full = await c.get(`/servicePrincipals/${ids.sp(1)}`);
      assert.equal(full.body.appRoleAssignmentRequired, true);
      assert.deepEqual(full.body.tags, ['WindowsAzureActiveDirectoryIntegratedApp']);
      const byName = await c.get(`/servicePrincipals?$filter=${q("displayName eq 'Sales Insights'")}&$select=id,appId`);
      assert.deepEqual(idsOf(byName.body.value), [ids.sp(7)]);
      const byAppId = await c.get(
        `/servicePrincipals?$filter=${q(`appId eq '${ids.appId(3)}'`)}&$select=id,displayName`,
      );
      assert.equal(byAppId.body.value?.[0]?.displayName, 'Partner Portal');
      await c.sim.close();
      c = await start({ pageSize: 3 });
      const all = await c.all('/servicePrincipals?$select=id');
      assert.deepEqual(all.pages, [3, 3, 2]);
    });

    it('lists and adds app role assignments of a service principal', async () => {
      const wiki = await c.get(`/servicePrincipals/${ids.sp(2)}/appRoleAssignedTo`);
      assert.deepEqual(
        wiki.body.value?.map((a) => [a.principalId, a.principalType, a.principalDisplayName]),
        [
          [ids.group(2), 'Group', 'Wiki Partner Editors'],
          [ids.group(3), 'Group', 'Wiki Partner Readers'],
        ],
      );
      const body = {
        principalId: ids.group(9),
        resourceId: ids.sp(2),
        appRoleId: '00000000-0000-0000-0000-000000000000',
      };
      const created = await c.post(`/servicePrincipals/${ids.sp(2)}/appRoleAssignedTo`, body);
      assert.equal(created.status, 201);
      assert.equal(created.body.principalDisplayName, 'Megan Project Team');
      assert.equal(created.body.resourceDisplayName, 'Contoso Wiki');
      const again = await c.post(`/servicePrincipals/${ids.sp(2)}/appRoleAssignedTo`, body);
      assert.equal(again.status, 400);
      const groupSide = await c.get(`/groups/${ids.group(9)}/appRoleAssignments`);
      assert.equal(groupSide.body.value?.[0]?.resourceId, ids.sp(2));
      const unknownRole = await c.post(`/servicePrincipals/${ids.sp(2)}/appRoleAssignedTo`, {
        ...body,
        principalId: ids.group(8),
        appRoleId: ids.appId(1),
      });
      assert.equal(unknownRole.status, 400);
      const missingPrincipal = await c.post(`/servicePrincipals/${ids.sp(2)}/appRoleAssignedTo`, {
        ...body,
        principalId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      });
      assert.equal(missingPrincipal.status, 404);
    });

    it('lists directory roles, their members and unified role assignments', async () => {
      const roles = await c.get('/directoryRoles');
      assert.deepEqual(
        roles.body.value?.map((r) => r.displayName),
        ['Global Administrator', 'User Administrator', 'Groups Administrator'],
      );
      const members = await c.get(`/directoryRoles/${ids.globalAdminRole}/members?$select=id,displayName`);
      assert.deepEqual(members.body.value, [
        { '@odata.type': '#microsoft.graph.user', id: ids.patti, displayName: 'Patti Fernandez' },
      ]);
      const assignments = await c.get(
        `/roleManagement/directory/roleAssignments?$filter=${q(`principalId eq '${ids.patti}'`)}`,
      );
      assert.equal(assignments.body.value?.length, 1);
      const a = assignments.body.value?.[0] ?? {};
      assert.equal(a.principalId, ids.patti);
      assert.equal(a.roleDefinitionId, '62e90394-69f5-4237-9190-012177145e10');
      assert.equal(a.directoryScopeId, '/');
      const none = await c.get(
        `/roleManagement/directory/roleAssignments?$filter=${q(`principalId eq '${ids.megan}'`)}`,
      );
      assert.deepEqual(none.body.value, []);
    });

    it('returns the organization with verified domains and the authorization policy', async () => {
      const org = await c.get('/organization?$select=id,displayName,verifiedDomains');
      assert.deepEqual(org.body.value, [
        {
          id: ids.tenant,
          displayName: 'Contoso',
          verifiedDomains: [
            {
              capabilities: 'Email, OfficeCommunicationsOnline',
              isDefault: true,
              isInitial: true,
              name: 'contoso.onmicrosoft.com',
              type: 'Managed',
            },
            { capabilities: 'Email', isDefault: false, isInitial: false, name: 'contoso.com', type: 'Managed' },
          ],
        },
      ]);
      const policy = await c.get('/policies/authorizationPolicy');
      assert.equal(policy.status, 200);
      assert.equal(
        policy.body['@odata.context'],
        'https://graph.microsoft.com/v1.0/$metadata#policies/authorizationPolicy/$entity',
      );
      assert.equal(policy.body.id, 'authorizationPolicy');
      assert.equal(policy.body.allowInvitesFrom, 'everyone');
      assert.equal(policy.body.guestUserRoleId, '10dae51f-b6af-4016-8d66-8c2a99b929b3');
      assert.equal(
        (policy.body.defaultUserRolePermissions as { allowedToReadOtherUsers: boolean }).allowedToReadOtherUsers,
        true,
      );
    });
  });
});
