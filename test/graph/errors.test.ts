import { strict as assert } from 'node:assert';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { fromODataResponse, toDirectoryError } from '../../src/graph/errors';

const body = (code: string, message: string) => ({
  error: { code, message, innerError: { 'request-id': 'rid-1', date: '2026-01-01T00:00:00' } },
});

describe('Graph error mapping', () => {
  const cases: Array<[number, string, string, string]> = [
    // A duplicate member add is not told apart by its wording (group-post-members.md promises none): it is a plain
    // 400, settled by reading membership (GraphDirectory.addGroupMember).
    [
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
      'badRequest',
    ],
    [400, 'Request_BadRequest', 'Invalid object identifier', 'badRequest'],
    [401, 'InvalidAuthenticationToken', 'Access token is empty.', 'unauthorized'],
    [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'forbidden'],
    [404, 'Request_ResourceNotFound', "Resource 'x' does not exist", 'notFound'],
    [429, 'TooManyRequests', 'Too many requests', 'throttled'],
    [503, 'ServiceUnavailable', 'Service unavailable', 'unavailable'],
    [504, 'GatewayTimeout', 'Gateway timeout', 'unavailable'],
  ];
  for (const [status, code, message, kind] of cases) {
    it(`${status} ${code} → ${kind}`, () => {
      const err = fromODataResponse(status, body(code, message), { 'Retry-After': '7' });
      assert.equal(err.kind, kind);
      assert.equal(err.code, code);
      assert.equal(err.requestId, 'rid-1');
      assert.equal(err.retryAfterSeconds, 7);
    });
  }

  it('copes with a body that is not OData', () => {
    const err = fromODataResponse(502, '<html>bad gateway</html>', { 'request-id': 'rid-h' });
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.code, 'HTTP502');
    assert.equal(err.requestId, 'rid-h');
  });

  it("maps the Graph client's GraphError and plain network errors", () => {
    const graphError = new GraphError(403, 'denied');
    graphError.code = 'Authorization_RequestDenied';
    graphError.body = JSON.stringify(body('Authorization_RequestDenied', 'denied'));
    const mapped = toDirectoryError(graphError);
    assert.equal(mapped.kind, 'forbidden');
    assert.equal(mapped.requestId, 'rid-1');
    const network = toDirectoryError(new TypeError('fetch failed'));
    assert.equal(network.kind, 'unavailable');
    assert.equal(network.status, 0);
  });
});
