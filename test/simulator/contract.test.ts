import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { openApiPath, validateExchange, validateLog } from '../support/graphContract';
import { ids } from './helpers';

const error = {
  error: {
    code: 'Request_ResourceNotFound',
    message: 'x',
    innerError: { date: '2024-01-01T00:00:00Z', 'request-id': 'a', 'client-request-id': 'b' },
  },
};

describe('graph contract checker', () => {
  it('loads the shared OpenAPI subset', () => {
    assert.ok(fs.existsSync(openApiPath));
  });

  it('accepts conforming exchanges', () => {
    assert.deepEqual(
      validateExchange({
        method: 'GET',
        url: `https://graph.microsoft.com/v1.0/groups/${ids.group(1)}?$select=id,displayName`,
        status: 200,
        responseBody: { '@odata.context': 'x', id: ids.group(1), displayName: 'G', groupTypes: [] },
      }),
      [],
    );
    assert.deepEqual(
      validateExchange({
        method: 'GET',
        url: `/v1.0/users/${ids.megan}/ownedObjects/graph.group`,
        status: 404,
        responseBody: error,
      }),
      [],
    );
    assert.deepEqual(
      validateExchange({
        method: 'POST',
        url: `/v1.0/groups/${ids.group(1)}/members/$ref`,
        status: 204,
        requestBody: { '@odata.id': 'https://graph.microsoft.com/v1.0/directoryObjects/x' },
      }),
      [],
    );
  });

  it('catches a wrong response shape', () => {
    const problems = validateExchange({
      method: 'GET',
      url: '/v1.0/users?$select=id',
      status: 200,
      responseBody: { '@odata.context': 'x', value: [{ id: 42, accountEnabled: 'yes' }] },
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /invalid response body: .*\/value\/0\/id must be string/);
  });

  it('catches unknown operations, undeclared statuses, bad request bodies and malformed errors', () => {
    assert.match(
      validateExchange({ method: 'GET', url: '/v1.0/groups', status: 200, responseBody: {} })[0],
      /no such operation/,
    );
    assert.match(
      validateExchange({ method: 'DELETE', url: `/v1.0/groups/${ids.group(1)}`, status: 204 })[0],
      /no such operation/,
    );
    assert.match(
      validateExchange({
        method: 'POST',
        url: '/v1.0/invitations',
        status: 201,
        requestBody: { invitedUserEmailAddress: 7 },
        responseBody: { '@odata.context': 'x' },
      })[0],
      /invalid request body/,
    );
    assert.match(
      validateExchange({
        method: 'POST',
        url: `/v1.0/groups/${ids.group(1)}/members/$ref`,
        status: 201,
        requestBody: { '@odata.id': 'x' },
      })[0],
      /status 201 is not declared/,
    );
    const badError = validateExchange({
      method: 'GET',
      url: `/v1.0/users/${ids.megan}`,
      status: 404,
      responseBody: { error: { message: 'no code' } },
    });
    assert.ok(badError.some((p) => /invalid response body/.test(p)));
    assert.ok(badError.some((p) => /innerError lacks 'request-id'/.test(p)));
    assert.match(
      validateExchange({ method: 'GET', url: `/v1.0/users/${ids.megan}`, status: 200 })[0],
      /no response body recorded/,
    );
    assert.match(
      validateExchange({
        method: 'PATCH',
        url: `/v1.0/groups/${ids.group(1)}`,
        status: 204,
        requestBody: {},
        responseBody: { id: 'x' },
      })[0],
      /expected no response body/,
    );
  });

  it('requires @odata.type on items of directoryObject collections', () => {
    const problems = validateExchange({
      method: 'GET',
      url: `/v1.0/groups/${ids.group(1)}/members`,
      status: 200,
      responseBody: { '@odata.context': 'x', value: [{ id: ids.alex }] },
    });
    assert.match(problems[0], /lacks '@odata.type'/);
  });

  it('checks the sub-responses inside a batch when the log has no entries for them', () => {
    const requestBody = {
      requests: [
        { id: '1', method: 'GET', url: `users/${ids.megan}` },
        { id: '2', method: 'GET', url: '/nowhere' },
      ],
    };
    const responseBody = {
      responses: [
        { id: '1', status: 200, headers: {}, body: { '@odata.context': 'x', id: 5 } },
        { id: '2', status: 400, headers: {}, body: error },
      ],
    };
    const problems = validateLog([
      {
        id: 'b',
        method: 'POST',
        url: '/v1.0/$batch',
        status: 200,
        time: '',
        durationMs: 0,
        requestId: 'r',
        requestBody,
        responseBody,
      },
    ]);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /batch item '1': .*\/id must be string/);
    assert.match(problems[1], /batch item '2': .*no such operation/);
    assert.match(
      validateExchange({
        method: 'POST',
        url: '/v1.0/$batch',
        status: 400,
        requestBody: { requests: 'x' },
        responseBody: error,
      })[0],
      /invalid request body/,
    );
  });
});
