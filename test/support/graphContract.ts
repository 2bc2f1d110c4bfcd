import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { RequestLogEntry } from '../../src/simulator';
import { projectRoot } from '../../src/projectRoot';

/**
 * Contract checks of recorded Graph exchanges against the shared OpenAPI 3.0 subset of Microsoft Graph v1.0
 * (`../shared/graph/graph-v1.0-subset.openapi.json`, relative to the project root).
 *
 * Deliberate adjustments to the published description, each matching what Graph actually sends:
 * - `@odata.type` is not required on entities: Graph only writes it when the runtime type differs from the
 *   declared one. Items of collections declared as `directoryObject` must carry it, as Graph always does.
 * - `GET .../$ref` is declared as a collection of strings; Graph answers objects with an `@odata.id`.
 * - A 204 answer has no body even where the description declares 2XX content (PATCH /groups/{id}).
 * - Operations the bot needs beyond the subset (casts of memberOf and transitiveMemberOf, transitiveMemberOf,
 *   checkMemberGroups, DELETE members/{id}/$ref, directoryRoles(roleTemplateId='…')/members, the users' Teams app
 *   installations and their chat) are described in
 *   `graph-supplement.openapi.json` beside this file, written from their doc pages (named in each `x-doc`), and
 *   merged into the subset's paths and components.
 */

export interface Exchange {
  method: string;
  url: string;
  status: number;
  requestBody?: unknown;
  responseBody?: unknown;
}

interface OpenApiMediaType {
  schema?: Record<string, unknown>;
}
interface OpenApiResponse {
  $ref?: string;
  content?: Record<string, OpenApiMediaType>;
}
interface OpenApiRequestBody {
  $ref?: string;
  required?: boolean;
  content?: Record<string, OpenApiMediaType>;
}
interface OpenApiOperation {
  operationId?: string;
  requestBody?: OpenApiRequestBody;
  responses: Record<string, OpenApiResponse>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, OpenApiResponse>;
    requestBodies: Record<string, OpenApiRequestBody>;
  };
}

interface Operation {
  method: string;
  template: string;
  keys: string[];
  op: OpenApiOperation;
}

const DOC_ID = 'graph-v1.0-subset.json';
const HTTP_METHODS = ['get', 'post', 'patch', 'put', 'delete'];

export const openApiPath: string = path.resolve(
  projectRoot(__dirname),
  '../shared/graph/graph-v1.0-subset.openapi.json',
);

/** Project-owned descriptions of operations missing from the shared subset. */
export const supplementPath: string = path.resolve(
  projectRoot(__dirname),
  'test/support/graph-supplement.openapi.json',
);

interface Supplement {
  paths: Record<string, Record<string, unknown>>;
  components: { requestBodies?: Record<string, OpenApiRequestBody>; responses?: Record<string, OpenApiResponse> };
}

function segmentKey(segment: string): string {
  // An entity addressed by an alternate key, e.g. directoryRoles(roleTemplateId='…'): keep the key's name only.
  const alternateKey = /^([A-Za-z]+)\(([A-Za-z]+)=.*\)$/.exec(segment);
  if (alternateKey) return `${alternateKey[1].toLowerCase()}(${alternateKey[2].toLowerCase()})`;
  const cast = /^(?:microsoft\.)?graph\.([A-Za-z]+)$/i.exec(segment);
  if (cast) return `cast:${cast[1].toLowerCase()}`;
  if (/^\{.+\}$/.test(segment)) return '{}';
  return segment.toLowerCase();
}

/** Removes `@odata.type` from `required` lists and points local $refs at the registered document. */
function adjustSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(adjustSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'required' && Array.isArray(v)) {
      const kept = v.filter((r) => r !== '@odata.type');
      if (kept.length > 0) out[k] = kept;
    } else if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) {
      out[k] = `${DOC_ID}${v}`;
    } else {
      out[k] = adjustSchema(v);
    }
  }
  return out;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string {
  const list = (errors ?? []).slice(0, 5).map((e) => {
    const where = e.instancePath === '' ? '(root)' : e.instancePath;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
        : '';
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });
  const more = (errors?.length ?? 0) > 5 ? ` (+${(errors?.length ?? 0) - 5} more)` : '';
  return list.join('; ') + more;
}

class GraphContract {
  private readonly doc: OpenApiDocument;
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file: string, supplementFile: string) {
    this.doc = JSON.parse(fs.readFileSync(file, 'utf8')) as OpenApiDocument;
    const supplement = JSON.parse(fs.readFileSync(supplementFile, 'utf8')) as Supplement;
    for (const [template, item] of Object.entries(supplement.paths)) {
      if (this.doc.paths[template]) throw new Error(`${supplementFile}: ${template} is already in the shared subset`);
      this.doc.paths[template] = item;
    }
    Object.assign(this.doc.components.requestBodies, supplement.components.requestBodies ?? {});
    Object.assign(this.doc.components.responses, supplement.components.responses ?? {});
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
    addFormats(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('base64url', /^[A-Za-z0-9_-]*={0,2}$/);
    this.ajv.addSchema({ $id: DOC_ID, components: { schemas: adjustSchema(this.doc.components.schemas) } }, DOC_ID);

    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const method of HTTP_METHODS) {
        const op = item[method] as OpenApiOperation | undefined;
        if (!op) continue;
        this.operations.push({
          method: method.toUpperCase(),
          template,
          keys: template.split('/').filter(Boolean).map(segmentKey),
          op,
        });
      }
    }
  }

  private validator(key: string, schema: Record<string, unknown>): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile(adjustSchema(schema) as Record<string, unknown>);
      this.cache.set(key, v);
    }
    return v;
  }

  private resolveResponse(r: OpenApiResponse): OpenApiResponse {
    if (r.$ref) {
      const name = r.$ref.replace('#/components/responses/', '');
      const resolved = this.doc.components.responses[name];
      if (!resolved) throw new Error(`Unresolvable response ${r.$ref}`);
      return resolved;
    }
    return r;
  }

  private resolveRequestBody(r: OpenApiRequestBody): OpenApiRequestBody {
    if (r.$ref) {
      const name = r.$ref.replace('#/components/requestBodies/', '');
      const resolved = this.doc.components.requestBodies[name];
      if (!resolved) throw new Error(`Unresolvable request body ${r.$ref}`);
      return resolved;
    }
    return r;
  }

  findOperation(method: string, url: string): Operation | undefined {
    let p = url.replace(/^https?:\/\/[^/]+/i, '');
    p = p.split('?')[0];
    if (!/^\/v1\.0(\/|$)/i.test(p)) return undefined;
    p = p.replace(/^\/v1\.0/i, '');
    const keys = p
      .split('/')
      .filter(Boolean)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      })
      .map(segmentKey);
    return this.operations.find(
      (o) =>
        o.method === method.toUpperCase() &&
        o.keys.length === keys.length &&
        o.keys.every((k, i) => (k === '{}' ? !keys[i].startsWith('cast:') && keys[i] !== '$ref' : k === keys[i])),
    );
  }

  validate(e: Exchange, nested = true): string[] {
    const label = `${e.method.toUpperCase()} ${e.url} -> ${e.status}`;
    // The simulator's own test endpoints (e.g. POST /_simulator/users/{id}/redeem) are logged but are not Graph.
    if (/^(https?:\/\/[^/]+)?\/_simulator\//.test(e.url)) return [];
    const operation = this.findOperation(e.method, e.url);
    if (!operation) return [`${label}: no such operation in the Graph v1.0 subset`];
    const problems: string[] = [];
    const opKey = `${operation.method} ${operation.template}`;

    if (operation.op.requestBody) {
      const rb = this.resolveRequestBody(operation.op.requestBody);
      const schema = rb.content?.['application/json']?.schema;
      if (e.requestBody === undefined || e.requestBody === null) {
        if (rb.required && e.status < 400) problems.push(`${label}: request body is required`);
      } else if (schema) {
        const v = this.validator(`${opKey} request`, schema);
        if (!v(e.requestBody)) problems.push(`${label}: invalid request body: ${formatErrors(v.errors)}`);
      }
    }

    const statusKey = String(e.status);
    const classKey = `${statusKey[0]}XX`;
    const declared =
      operation.op.responses[statusKey] ?? operation.op.responses[classKey] ?? operation.op.responses.default;
    if (!declared) {
      problems.push(`${label}: status ${e.status} is not declared for ${opKey}`);
      return problems;
    }
    const response = this.resolveResponse(declared);
    const schemaRef = declared.$ref ?? '';
    const schema = response.content?.['application/json']?.schema;
    const empty = e.responseBody === undefined || e.responseBody === null || e.responseBody === '';
    if (e.status === 204 || !schema) {
      if (!empty) problems.push(`${label}: expected no response body`);
      return problems;
    }
    if (empty) {
      problems.push(`${label}: no response body recorded (start the simulator with recordBodies: true)`);
      return problems;
    }
    let effective: Record<string, unknown> = schema;
    const isRefList = operation.method === 'GET' && /\/\$ref$/.test(operation.template) && e.status < 300;
    if (isRefList) {
      effective = {
        type: 'object',
        required: ['value'],
        properties: {
          '@odata.nextLink': { type: 'string', nullable: true },
          '@odata.count': { type: 'integer', nullable: true },
          value: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string' },
                { type: 'object', required: ['@odata.id'], properties: { '@odata.id': { type: 'string' } } },
              ],
            },
          },
        },
      };
    }
    const v = this.validator(`${opKey} ${isRefList ? 'refs' : classKey}`, effective);
    if (!v(e.responseBody)) problems.push(`${label}: invalid response body: ${formatErrors(v.errors)}`);

    if (e.status < 300 && schemaRef.endsWith('microsoft.graph.directoryObjectCollectionResponse')) {
      const value = (e.responseBody as { value?: unknown }).value;
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          const t = (item as Record<string, unknown> | null)?.['@odata.type'];
          if (typeof t !== 'string' || !t.startsWith('#microsoft.graph.')) {
            problems.push(`${label}: /value/${i} of a directoryObject collection lacks '@odata.type'`);
          }
        });
      }
    }
    if (e.status < 300 && schema && e.status !== 204) {
      const body = e.responseBody as Record<string, unknown>;
      if (typeof body['@odata.context'] !== 'string' && operation.template !== '/$batch') {
        problems.push(`${label}: response lacks '@odata.context'`);
      }
    }
    if (e.status >= 400) {
      const inner = (e.responseBody as { error?: { innerError?: Record<string, unknown> } }).error?.innerError;
      for (const k of ['date', 'request-id', 'client-request-id']) {
        if (!inner || typeof inner[k] !== 'string') problems.push(`${label}: error.innerError lacks '${k}'`);
      }
    }

    if (nested && operation.template === '/$batch' && e.status === 200)
      problems.push(...this.validateBatchItems(e, label));
    return problems;
  }

  private validateBatchItems(e: Exchange, label: string): string[] {
    const problems: string[] = [];
    const requests = (e.requestBody as { requests?: unknown })?.requests;
    const responses = (e.responseBody as { responses?: unknown })?.responses;
    if (!Array.isArray(requests) || !Array.isArray(responses)) return problems;
    const byId = new Map<string, Record<string, unknown>>();
    for (const r of requests) {
      if (r && typeof r === 'object' && typeof (r as { id?: unknown }).id === 'string') {
        byId.set((r as { id: string }).id.toLowerCase(), r as Record<string, unknown>);
      }
    }
    const answered = new Set<string>();
    for (const raw of responses) {
      const res = raw as { id?: unknown; status?: unknown; body?: unknown };
      const id = typeof res.id === 'string' ? res.id : '';
      const req = byId.get(id.toLowerCase());
      if (!req) {
        problems.push(`${label}: response '${id}' matches no request of the batch`);
        continue;
      }
      answered.add(id.toLowerCase());
      const relative = String(req.url ?? '').replace(/^\/+/, '');
      problems.push(
        ...this.validate(
          {
            method: String(req.method ?? 'GET'),
            url: `/v1.0/${relative}`,
            status: Number(res.status),
            requestBody: req.body,
            responseBody: res.body,
          },
          false,
        ).map((p) => `${label}: batch item '${id}': ${p}`),
      );
    }
    for (const id of byId.keys()) {
      if (!answered.has(id)) problems.push(`${label}: no response for batch request '${id}'`);
    }
    return problems;
  }
}

let contract: GraphContract | undefined;

function getContract(): GraphContract {
  if (!contract) contract = new GraphContract(openApiPath, supplementPath);
  return contract;
}

/**
 * Problems with one exchange (empty when it conforms): unknown operation, invalid request body, invalid response body.
 */
export function validateExchange(e: Exchange): string[] {
  return getContract().validate(e);
}

/**
 * Validates every entry of a simulator request log, batch sub-requests included. Sub-requests that have
 * their own log entries (batchId) are checked there; otherwise they are checked inside the batch body.
 */
export function validateLog(entries: RequestLogEntry[]): string[] {
  const c = getContract();
  const batchesWithEntries = new Set(entries.filter((e) => e.batchId).map((e) => e.batchId as string));
  const problems: string[] = [];
  for (const entry of entries) {
    // A dropped connection (fault 'drop-after-write', status 0) answered nothing to check.
    if (entry.status === 0) continue;
    problems.push(
      ...c.validate(
        {
          method: entry.method,
          url: entry.url,
          status: entry.status,
          requestBody: entry.requestBody,
          responseBody: entry.responseBody,
        },
        !batchesWithEntries.has(entry.id),
      ),
    );
  }
  return problems;
}
