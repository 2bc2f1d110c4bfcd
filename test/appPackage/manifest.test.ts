/**
 * Checks the Teams app package and the toolkit project files:
 *  - appPackage/manifest.json, after the toolkit's ${{VAR}} substitution, is valid against the
 *    official v1.24 manifest schema (shared/teams), with the bot, scopes and commands we expect;
 *  - the icons have the sizes and colours Teams requires;
 *  - teamsapp.yml / teamsapp.local.yml use the actions and parameters of the v1.11 project
 *    file schema, and every ${{VAR}} they (and the files they feed) use is defined in the
 *    environment file or written by an earlier action;
 *  - infra/azure.bicep and its parameters file agree, and the web app gets the bot's settings.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { PNG } from 'pngjs';
import { projectRoot } from '../../src/projectRoot';
import { parseCommand } from '../../src/bot/commands';
import { REQUIRED_PERMISSION_NAMES } from '../../src/graph/permissions';

// ---------------------------------------------------------------------------------------
// Locations

const ROOT = projectRoot(__dirname);
const SCHEMA_PATH = path.resolve(ROOT, '..', 'shared', 'teams', 'MicrosoftTeams.v1.24.schema.json');
const at = (...parts: string[]): string => path.join(ROOT, ...parts);
const readText = (...parts: string[]): string => fs.readFileSync(at(...parts), 'utf8');

// ---------------------------------------------------------------------------------------
// Placeholders and environment files

const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function placeholders(text: string): Set<string> {
  return new Set(Array.from(text.matchAll(PLACEHOLDER), (m) => m[1] as string));
}

/** KEY=VALUE lines of a toolkit environment file (comments and blank lines ignored). */
function readEnvFile(file: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const raw of fs.readFileSync(at(file), 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    assert.ok(m, `${file}: cannot parse line ${JSON.stringify(raw)}`);
    env.set(m[1] as string, (m[2] as string).trim());
  }
  return env;
}

/** A realistic value for a variable, chosen by its name. */
function sampleValue(name: string): string {
  if (name === 'APP_NAME_SUFFIX') return '-dev';
  if (name === 'TEAMSFX_ENV') return 'dev';
  if (name.endsWith('_DOMAIN')) return 'guestinvabc123.azurewebsites.net';
  if (name.endsWith('_ENDPOINT')) return 'https://guestinvabc123.azurewebsites.net';
  if (name.endsWith('_ID')) {
    let hash = 0;
    for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    const hex = hash.toString(16).padStart(8, '0').slice(0, 8);
    return `${hex}-1234-4abc-8def-0123456789ab`;
  }
  return 'sample';
}

function substitute(text: string, values: (name: string) => string): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => values(name));
}

// ---------------------------------------------------------------------------------------
// A small YAML reader for the block-style subset the project files use: mappings,
// sequences ("- "), plain or quoted scalars, full-line and trailing comments.

type Yaml = string | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

interface YamlLine {
  indent: number;
  text: string;
  lineNo: number;
}

function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

function parseYaml(source: string, file: string): Yaml {
  const lines: YamlLine[] = [];
  source.split(/\r?\n/).forEach((raw, idx) => {
    assert.ok(!raw.includes('\t'), `${file}:${idx + 1}: tab character`);
    const text = stripComment(raw);
    if (!text.trim()) return;
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), lineNo: idx + 1 });
  });
  let pos = 0;

  const fail = (line: YamlLine | undefined, msg: string): never => {
    throw new Error(`${file}:${line ? line.lineNo : 'end'}: ${msg}`);
  };

  const scalar = (text: string, line: YamlLine): string => {
    if (/^["']/.test(text)) {
      const q = text[0] as string;
      if (text.length < 2 || !text.endsWith(q)) fail(line, `unterminated quote: ${text}`);
      return text.slice(1, -1);
    }
    if (/^[[{|>&*!]/.test(text)) fail(line, `unsupported YAML syntax: ${text}`);
    return text;
  };

  const isItem = (line: YamlLine): boolean => line.text === '-' || line.text.startsWith('- ');

  function block(indent: number): Yaml {
    const line = lines[pos];
    if (!line || line.indent !== indent) return fail(line, `expected a block at indent ${indent}`);
    return isItem(line) ? sequence(indent) : mapping(indent);
  }

  function sequence(indent: number): Yaml[] {
    const items: Yaml[] = [];
    for (;;) {
      const line = lines[pos];
      if (!line || line.indent < indent) break;
      if (line.indent > indent || !isItem(line)) fail(line, 'bad indentation in sequence');
      const rest = line.text.slice(1).trimStart();
      if (!rest) {
        pos++;
        const next = lines[pos];
        if (!next || next.indent <= indent) fail(line, 'empty sequence item');
        items.push(block((next as YamlLine).indent));
      } else if (/^[^"'\s][^:]*:(\s|$)/.test(rest)) {
        // "- key: value": a mapping whose first key sits after the dash.
        const childIndent = indent + (line.text.length - rest.length);
        lines[pos] = { indent: childIndent, text: rest, lineNo: line.lineNo };
        items.push(mapping(childIndent));
      } else {
        items.push(scalar(rest, line));
        pos++;
      }
    }
    return items;
  }

  function mapping(indent: number): YamlMap {
    const map: YamlMap = {};
    for (;;) {
      const line = lines[pos];
      if (!line || line.indent < indent) break;
      if (line.indent > indent || isItem(line)) fail(line, 'bad indentation in mapping');
      const m = /^([^:]+?):(?:\s+(.*))?$/.exec(line.text);
      if (!m) return fail(line, `expected "key: value": ${line.text}`);
      const key = m[1] as string;
      if (key in map) fail(line, `duplicate key ${key}`);
      pos++;
      if (m[2] !== undefined && m[2] !== '') {
        map[key] = scalar(m[2], line);
        continue;
      }
      const next = lines[pos];
      if (next && (next.indent > indent || (next.indent === indent && isItem(next)))) {
        map[key] = block(next.indent);
      } else {
        map[key] = '';
      }
    }
    return map;
  }

  const doc = block(lines[0]?.indent ?? 0);
  if (pos !== lines.length) fail(lines[pos], 'unexpected content');
  return doc;
}

function asMap(value: Yaml | undefined, what: string): YamlMap {
  assert.ok(value !== undefined && typeof value === 'object' && !Array.isArray(value), `${what} must be a mapping`);
  return value;
}

function asList(value: Yaml | undefined, what: string): Yaml[] {
  assert.ok(Array.isArray(value), `${what} must be a sequence`);
  return value;
}

function scalars(value: Yaml): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(scalars);
  return Object.values(value).flatMap(scalars);
}

// ---------------------------------------------------------------------------------------
// The actions these files use, with the parameters the v1.11 project file schema
// (yaml-schema/v1.11/yaml.schema.json of the Microsoft 365 Agents Toolkit) allows.

interface ActionSpec {
  withRequired: string[];
  withOptional?: string[];
  /** writeToEnvironmentFile: undefined = not allowed; otherwise required/optional keys. */
  outputs?: { required: string[]; optional?: string[]; secret?: string[]; mandatory: boolean };
}

const ACTIONS: Record<string, ActionSpec> = {
  'teamsApp/create': {
    withRequired: ['name'],
    outputs: { required: ['teamsAppId'], mandatory: true },
  },
  'aadApp/create': {
    withRequired: ['name', 'generateClientSecret', 'signInAudience'],
    withOptional: [
      'generateServicePrincipal',
      'serviceManagementReference',
      'clientSecretExpireDays',
      'clientSecretDescription',
      'uniqueName',
    ],
    outputs: {
      required: ['clientId', 'objectId', 'clientSecret'],
      optional: ['tenantId', 'authority', 'authorityHost'],
      secret: ['clientSecret'],
      mandatory: true,
    },
  },
  'botFramework/create': {
    withRequired: ['botId', 'name', 'messagingEndpoint'],
    withOptional: ['description', 'iconUrl', 'channels'],
  },
  'arm/deploy': {
    withRequired: ['subscriptionId', 'resourceGroupName', 'templates'],
    withOptional: ['bicepCliVersion'],
  },
  'teamsApp/validateManifest': { withRequired: ['manifestPath'] },
  'teamsApp/zipAppPackage': { withRequired: ['manifestPath', 'outputZipPath', 'outputFolder'] },
  'teamsApp/validateAppPackage': { withRequired: ['appPackagePath'] },
  'teamsApp/update': { withRequired: ['appPackagePath'] },
  'teamsApp/publishAppPackage': {
    withRequired: ['appPackagePath'],
    outputs: { required: ['publishedAppId'], mandatory: true },
  },
  'cli/runNpmCommand': { withRequired: ['args'], withOptional: ['workingDirectory'] },
  'azureAppService/zipDeploy': {
    withRequired: ['artifactFolder', 'resourceId'],
    withOptional: ['workingDirectory', 'ignoreFile', 'dryRun', 'outputZipFile'],
  },
  'file/createOrUpdateEnvironmentFile': { withRequired: ['envs', 'target'] },
};

const STEP_KEYS = new Set(['uses', 'name', 'env', 'with', 'writeToEnvironmentFile']);

interface Step {
  uses: string;
  with: YamlMap;
  outputs: Map<string, string>;
  raw: YamlMap;
}

function checkStep(raw: Yaml, where: string): Step {
  const step = asMap(raw, where);
  for (const key of Object.keys(step)) assert.ok(STEP_KEYS.has(key), `${where}: unknown key ${key}`);
  const uses = step['uses'];
  assert.ok(typeof uses === 'string' && uses in ACTIONS, `${where}: unknown action ${String(uses)}`);
  const spec = ACTIONS[uses] as ActionSpec;
  const withMap = asMap(step['with'], `${where} (${uses}).with`);
  const allowed = new Set([...spec.withRequired, ...(spec.withOptional ?? [])]);
  for (const key of spec.withRequired) assert.ok(key in withMap, `${where} (${uses}): missing with.${key}`);
  for (const key of Object.keys(withMap)) assert.ok(allowed.has(key), `${where} (${uses}): unknown with.${key}`);

  const outputs = new Map<string, string>();
  const wtef = step['writeToEnvironmentFile'];
  if (!spec.outputs) {
    assert.equal(wtef, undefined, `${where} (${uses}): writeToEnvironmentFile is not supported`);
  } else if (wtef === undefined) {
    assert.ok(!spec.outputs.mandatory, `${where} (${uses}): writeToEnvironmentFile is required`);
  } else {
    const map = asMap(wtef, `${where}.writeToEnvironmentFile`);
    const ok = new Set([...spec.outputs.required, ...(spec.outputs.optional ?? [])]);
    for (const key of spec.outputs.required) {
      if (key === 'clientSecret' && withMap['generateClientSecret'] !== 'true') continue;
      assert.ok(key in map, `${where} (${uses}): missing writeToEnvironmentFile.${key}`);
    }
    for (const [key, value] of Object.entries(map)) {
      assert.ok(ok.has(key), `${where} (${uses}): unknown writeToEnvironmentFile.${key}`);
      assert.ok(
        typeof value === 'string' && /^[A-Z][A-Z0-9_]*$/.test(value),
        `${where}: bad variable name ${String(value)}`,
      );
      if (spec.outputs.secret?.includes(key))
        assert.match(value, /^SECRET_[A-Z0-9_]+$/, `${where}: ${key} must go to a SECRET_ variable`);
      outputs.set(key, value);
    }
  }

  if (uses === 'arm/deploy') {
    for (const [i, t] of asList(withMap['templates'], `${where}.with.templates`).entries()) {
      const template = asMap(t, `${where}.with.templates[${i}]`);
      assert.ok(template['path'] && template['deploymentName'], `${where}: template needs path and deploymentName`);
      for (const key of Object.keys(template)) {
        assert.ok(['path', 'parameters', 'deploymentName'].includes(key), `${where}: unknown template key ${key}`);
      }
    }
  }
  if (uses === 'aadApp/create') {
    assert.ok(
      ['true', 'false'].includes(withMap['generateClientSecret'] as string),
      `${where}: generateClientSecret must be a boolean`,
    );
    assert.ok(
      [
        'AzureADMyOrg',
        'AzureADMultipleOrgs',
        'AzureADandPersonalMicrosoftAccount',
        'PersonalMicrosoftAccount',
      ].includes(withMap['signInAudience'] as string),
      `${where}: bad signInAudience`,
    );
  }
  if (uses === 'botFramework/create' && withMap['channels'] !== undefined) {
    for (const c of asList(withMap['channels'], `${where}.with.channels`)) {
      assert.ok(['msteams', 'm365extensions'].includes(asMap(c, 'channel')['name'] as string), `${where}: bad channel`);
    }
  }
  if (uses === 'file/createOrUpdateEnvironmentFile') asMap(withMap['envs'], `${where}.with.envs`);
  return { uses, with: withMap, outputs, raw: step };
}

interface Project {
  file: string;
  doc: YamlMap;
  lifecycles: Record<string, Step[]>;
}

function loadProject(file: string): Project {
  const doc = asMap(parseYaml(readText(file), file), file);
  for (const key of Object.keys(doc)) {
    assert.ok(
      [
        'version',
        'projectId',
        'environmentFolderPath',
        'additionalMetadata',
        'provision',
        'deploy',
        'publish',
      ].includes(key),
      `${file}: unknown key ${key}`,
    );
  }
  const lifecycles: Record<string, Step[]> = {};
  for (const name of ['provision', 'deploy', 'publish']) {
    if (doc[name] === undefined) continue;
    lifecycles[name] = asList(doc[name], `${file}: ${name}`).map((s, i) => checkStep(s, `${file}: ${name}[${i}]`));
  }
  return { file, doc, lifecycles };
}

const uses = (steps: Step[] | undefined): string[] => (steps ?? []).map((s) => s.uses);

/** Names of the outputs of a Bicep template (written to the environment by arm/deploy). */
function bicepOutputs(file: string): string[] {
  return Array.from(readText(file).matchAll(/^output\s+([A-Za-z_][A-Za-z0-9_]*)\s/gm), (m) => m[1] as string);
}

/**
 * Empty in the committed env files but never empty when an action runs: the toolkit asks for the subscription and
 * resource group when they are empty, generates RESOURCE_SUFFIX before arm/deploy (its coordinator), and the tunnel
 * (the editor's debug task) writes BOT_ENDPOINT and BOT_DOMAIN for the local environment.
 */
const TOOLKIT_SUPPLIED = [
  'AZURE_SUBSCRIPTION_ID',
  'AZURE_RESOURCE_GROUP_NAME',
  'RESOURCE_SUFFIX',
  'BOT_ENDPOINT',
  'BOT_DOMAIN',
];
/** Secrets the person deploying must put in env/.env.<env>.user (docs/teams-app.md says so). */
const USER_SECRETS = ['SECRET_POSTGRES_ADMIN_PASSWORD'];

/**
 * Walks the lifecycles in order and checks that every placeholder an action uses (in the
 * project file, or in the manifest / ARM parameters it reads) is already known: defined in
 * the environment file or written by an earlier action. Returns the unknown uses.
 */
function undefinedVariables(project: Project, envFile: string, nonEmpty = false): string[] {
  const env = readEnvFile(envFile);
  const known = new Set(
    nonEmpty
      ? [...env]
          .filter(([, v]) => v !== '')
          .map(([k]) => k)
          .concat(TOOLKIT_SUPPLIED, USER_SECRETS)
      : env.keys(),
  );
  const problems: string[] = [];
  for (const [lifecycle, steps] of Object.entries(project.lifecycles)) {
    steps.forEach((step, i) => {
      const sources: Array<[string, string]> = [];
      const { writeToEnvironmentFile: _outputs, ...rest } = step.raw;
      sources.push([`${project.file} ${lifecycle}[${i}] ${step.uses}`, scalars(rest).join('\n')]);
      const manifestPath = step.with['manifestPath'];
      if (typeof manifestPath === 'string') sources.push([manifestPath, readText(manifestPath)]);
      if (step.uses === 'arm/deploy') {
        for (const t of asList(step.with['templates'], 'templates')) {
          const parameters = asMap(t, 'template')['parameters'];
          if (typeof parameters === 'string') sources.push([parameters, readText(parameters)]);
        }
      }
      for (const [source, text] of sources) {
        for (const name of placeholders(text)) {
          if (!known.has(name)) problems.push(`${name} (used by ${source}, ${lifecycle}[${i}])`);
        }
      }
      for (const name of step.outputs.values()) known.add(name);
      if (step.uses === 'arm/deploy') {
        for (const t of asList(step.with['templates'], 'templates')) {
          const templatePath = asMap(t, 'template')['path'];
          if (typeof templatePath === 'string' && templatePath.endsWith('.bicep')) {
            for (const name of bicepOutputs(templatePath)) known.add(name);
          }
        }
      }
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Manifest validation

let validator: ValidateFunction | undefined;

function manifestValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

function validateManifest(manifest: unknown): ErrorObject[] {
  const validate = manifestValidator();
  return validate(manifest) ? [] : [...(validate.errors ?? [])];
}

const describe_ = (errors: ErrorObject[]): string =>
  errors.map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`).join('\n');

interface Manifest {
  manifestVersion: string;
  id: string;
  icons: { color: string; outline: string };
  validDomains?: string[];
  bots: Array<{
    botId: string;
    scopes: string[];
    supportsFiles?: boolean;
    isNotificationOnly?: boolean;
    commandLists?: Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }>;
  }>;
  [key: string]: unknown;
}

function loadManifest(): Manifest {
  return JSON.parse(substitute(readText('appPackage', 'manifest.json'), sampleValue)) as Manifest;
}

const readPng = (...parts: string[]): PNG => PNG.sync.read(fs.readFileSync(at(...parts)));

// ---------------------------------------------------------------------------------------

describe('Teams app package', () => {
  it('finds the official manifest schema in shared/', () => {
    assert.ok(fs.existsSync(SCHEMA_PATH), `missing ${SCHEMA_PATH}`);
  });

  it('is valid against the v1.24 manifest schema once the toolkit fills in ${{VAR}}', () => {
    const text = readText('appPackage', 'manifest.json');
    assert.ok(placeholders(text).size > 0, 'expected ${{VAR}} placeholders');
    const manifest = loadManifest();
    assert.doesNotMatch(JSON.stringify(manifest), /\$\{\{/);
    const errors = validateManifest(manifest);
    assert.deepEqual(errors, [], describe_(errors));
    assert.equal(manifest.manifestVersion, '1.24');
    assert.equal(
      manifest['$schema'],
      'https://developer.microsoft.com/en-us/json-schemas/teams/v1.24/MicrosoftTeams.schema.json',
    );
  });

  it('has a Dutch localization file: every key names a string of the manifest, the name, descriptions and every command are translated, and the translated manifest is still valid against the v1.24 schema', () => {
    const manifest = loadManifest();
    const info = manifest['localizationInfo'] as {
      defaultLanguageTag: string;
      additionalLanguages: Array<{ languageTag: string; file: string }>;
    };
    assert.equal(info.defaultLanguageTag, 'en-us');
    const nl = info.additionalLanguages.find((l) => l.languageTag === 'nl');
    assert.ok(nl, 'localizationInfo lists nl');
    const strings = JSON.parse(readText('appPackage', nl.file)) as Record<string, string>;
    assert.equal(
      strings['$schema'],
      'https://developer.microsoft.com/en-us/json-schemas/teams/v1.24/MicrosoftTeams.Localization.schema.json',
    );
    // Localization keys are paths into the manifest (localization-schema: "name.short",
    // "bots[0].commandLists[0].commands[0].title").
    const translated = JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
    const expected = ['name.short', 'name.full', 'description.short', 'description.full'];
    manifest.bots.forEach((bot, b) =>
      bot.commandLists?.forEach((list, l) =>
        list.commands.forEach((_, c) =>
          expected.push(
            `bots[${b}].commandLists[${l}].commands[${c}].title`,
            `bots[${b}].commandLists[${l}].commands[${c}].description`,
          ),
        ),
      ),
    );
    assert.deepEqual(
      Object.keys(strings)
        .filter((k) => k !== '$schema')
        .sort(),
      [...expected].sort(),
    );
    for (const [key, value] of Object.entries(strings)) {
      if (key === '$schema') continue;
      const parts = key.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '');
      let node: Record<string, unknown> = translated;
      for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
      const last = parts[parts.length - 1] as string;
      assert.equal(typeof node?.[last], 'string', `${key} names a string of the manifest`);
      node[last] = value;
    }
    const errors = validateManifest(translated);
    assert.deepEqual(errors, [], describe_(errors));
    const titles = manifest.bots[0]!.commandLists![0]!.commands.map(
      (c, i) => strings[`bots[0].commandLists[0].commands[${i}].title`],
    );
    assert.deepEqual(titles, [
      'gast uitnodigen',
      'gasten uitnodigen',
      'toegang aanvragen',
      'mijn aanvragen',
      'openstaande aanvragen',
      'mijn gasten',
      'gastenrapport',
      'help',
    ]);
  });

  it('catches a broken manifest (the validator really validates)', () => {
    const missingDeveloper = loadManifest();
    delete missingDeveloper['developer'];
    const errors = validateManifest(missingDeveloper);
    assert.ok(
      errors.some(
        (e) => e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === 'developer',
      ),
      `expected a "developer is required" error, got:\n${describe_(errors)}`,
    );

    const wrongVersion = loadManifest();
    wrongVersion.manifestVersion = '1.23';
    assert.ok(validateManifest(wrongVersion).some((e) => e.instancePath === '/manifestVersion'));

    const badBotId = loadManifest();
    (badBotId.bots[0] as { botId: string }).botId = 'not-a-guid';
    assert.ok(validateManifest(badBotId).some((e) => e.instancePath === '/bots/0/botId'));
  });

  it('declares the conversational bot in personal, team and group chat scopes', () => {
    const manifest = loadManifest();
    assert.equal(manifest.bots.length, 1);
    const bot = manifest.bots[0]!;
    assert.equal(readText('appPackage', 'manifest.json').includes('"botId": "${{BOT_ID}}"'), true);
    assert.deepEqual([...bot.scopes].sort(), ['groupChat', 'personal', 'team']);
    // Files are taken and sent in personal chat only (bots-filesv4); the bot refuses them elsewhere.
    assert.equal(bot.supportsFiles, true);
    assert.equal(bot.isNotificationOnly, false);
    assert.ok(
      readText('appPackage', 'manifest.json').includes('"${{BOT_DOMAIN}}"'),
      'validDomains should list ${{BOT_DOMAIN}}',
    );
  });

  it('lists `invite guest`, `invite guests` and `help` for every bot scope', () => {
    const bot = loadManifest().bots[0]!;
    const lists = bot.commandLists ?? [];
    for (const scope of ['personal', 'team', 'groupChat']) {
      const commands = lists.filter((l) => l.scopes.includes(scope)).flatMap((l) => l.commands);
      const byTitle = new Map(commands.map((c) => [c.title, c.description]));
      assert.equal(byTitle.get('invite guest'), 'Invite an outside guest to an app you own', `scope ${scope}`);
      assert.equal(
        byTitle.get('invite guests'),
        'Invite several outside guests at once to an app you own',
        `scope ${scope}`,
      );
      assert.ok(parseCommand('invite guests')?.name === 'inviteGuests', 'the listed command is one the bot knows');
      assert.equal(byTitle.get('help'), 'List what I can do', `scope ${scope}`);
      assert.ok(byTitle.has('my guests') && byTitle.has('guest report'), `guest lifecycle commands in scope ${scope}`);
      assert.equal(commands.length, byTitle.size, `duplicate command titles in scope ${scope}`);
    }
  });

  it('has a 192x192 full-colour icon', () => {
    const manifest = loadManifest();
    const png = readPng('appPackage', manifest.icons.color);
    assert.equal(png.width, 192);
    assert.equal(png.height, 192);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) {
      colours.add(png.data.readUInt32BE(i));
    }
    assert.ok(colours.size > 2, 'the colour icon should not be blank');
  });

  it('has a 32x32 outline icon: white on transparent, alpha only 0 or 255', () => {
    const manifest = loadManifest();
    const png = readPng('appPackage', manifest.icons.outline);
    assert.equal(png.width, 32);
    assert.equal(png.height, 32);
    let opaque = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b, a] = [png.data[i], png.data[i + 1], png.data[i + 2], png.data[i + 3]];
      const where = `pixel (${(i / 4) % 32}, ${Math.floor(i / 4 / 32)})`;
      assert.ok(a === 0 || a === 255, `${where}: alpha ${a}`);
      if (a === 255) {
        opaque++;
        assert.deepEqual([r, g, b], [255, 255, 255], `${where} must be white`);
      }
    }
    assert.ok(opaque > 50 && opaque < 32 * 32 - 50, `unexpected number of opaque pixels: ${opaque}`);
  });
});

describe('Toolkit project files', () => {
  it('teamsapp.yml provisions, deploys and publishes with known actions and parameters', () => {
    const project = loadProject('teamsapp.yml');
    assert.equal(project.doc['version'], 'v1.11');
    assert.equal(project.doc['environmentFolderPath'], './env');
    assert.deepEqual(uses(project.lifecycles['provision']), [
      'teamsApp/create',
      'aadApp/create',
      'arm/deploy',
      'teamsApp/validateManifest',
      'teamsApp/zipAppPackage',
      'teamsApp/validateAppPackage',
      'teamsApp/update',
    ]);
    assert.deepEqual(uses(project.lifecycles['deploy']), [
      'cli/runNpmCommand',
      'cli/runNpmCommand',
      'azureAppService/zipDeploy',
    ]);
    assert.deepEqual(uses(project.lifecycles['publish']).slice(-1), ['teamsApp/publishAppPackage']);

    const [, aad, arm] = project.lifecycles['provision']!;
    assert.equal(aad!.with['signInAudience'], 'AzureADMyOrg');
    assert.equal(aad!.outputs.get('clientId'), 'BOT_ID');
    assert.equal(aad!.outputs.get('tenantId'), 'BOT_TENANT_ID');
    const template = asMap(asList(arm!.with['templates'], 'templates')[0], 'template');
    assert.equal(template['path'], './infra/azure.bicep');
    for (const steps of Object.values(project.lifecycles)) {
      for (const step of steps) {
        for (const key of ['manifestPath']) {
          const p = step.with[key];
          if (typeof p === 'string') assert.ok(fs.existsSync(at(p)), `${p} does not exist`);
        }
      }
    }
    assert.ok(fs.existsSync(at(template['path'] as string)));
    assert.ok(fs.existsSync(at(template['parameters'] as string)));
  });

  it("teamsapp.local.yml registers the tunnel endpoint and writes the bot's local settings", () => {
    const project = loadProject('teamsapp.local.yml');
    assert.equal(project.doc['version'], 'v1.11');
    const provision = project.lifecycles['provision']!;
    assert.deepEqual(uses(provision).slice(0, 3), ['teamsApp/create', 'aadApp/create', 'botFramework/create']);
    assert.ok(uses(provision).includes('teamsApp/update'));
    assert.equal(provision[2]!.with['messagingEndpoint'], '${{BOT_ENDPOINT}}/api/messages');
    assert.equal(provision[2]!.with['botId'], '${{BOT_ID}}');

    const write = (project.lifecycles['deploy'] ?? []).find((s) => s.uses === 'file/createOrUpdateEnvironmentFile');
    assert.ok(write, "deploy should write the bot's environment file");
    const envs = asMap(write.with['envs'], 'envs');
    assert.equal(envs['MicrosoftAppId'], '${{BOT_ID}}');
    assert.equal(envs['MicrosoftAppPassword'], '${{SECRET_BOT_PASSWORD}}');
    assert.equal(envs['MicrosoftAppTenantId'], '${{BOT_TENANT_ID}}');
    assert.equal(envs['MicrosoftAppType'], 'SingleTenant');
    for (const name of ['PORT', 'GRAPH_MODE', 'STORE_PATH', 'INVITE_REDIRECT_URL_DEFAULT']) {
      assert.ok(name in envs, `missing ${name}`);
    }
    // Empty in env/.env.local, so the toolkit would stop on them ("Unresolved placeholders"); added by hand for live.
    for (const name of ['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET'])
      assert.ok(!(name in envs), `${name} in the yml`);
  });

  it('every ${{VAR}} of teamsapp.yml, the manifest and the ARM parameters is defined in env/.env.dev or written earlier', () => {
    assert.deepEqual(undefinedVariables(loadProject('teamsapp.yml'), 'env/.env.dev'), []);
  });

  it('every ${{VAR}} of teamsapp.local.yml and the manifest is defined in env/.env.local or written earlier', () => {
    assert.deepEqual(undefinedVariables(loadProject('teamsapp.local.yml'), 'env/.env.local'), []);
  });

  // The toolkit replaces a placeholder only when its value is not empty, then stops on what is left
  // (expandEnvironmentVariable and checkPlaceholderInTemplate; resolveString for `with:` blocks).
  it('every ${{VAR}} teamsapp.yml passes (with: blocks and the ARM parameters) is non-empty in env/.env.dev, written earlier, or supplied', () => {
    assert.deepEqual(undefinedVariables(loadProject('teamsapp.yml'), 'env/.env.dev', true), []);
  });

  it('every ${{VAR}} teamsapp.local.yml passes is non-empty in env/.env.local, written earlier, or supplied', () => {
    assert.deepEqual(undefinedVariables(loadProject('teamsapp.local.yml'), 'env/.env.local', true), []);
  });

  it('the non-empty check notices an empty placeholder, and the docs name each secret the user must supply', () => {
    const project = loadProject('teamsapp.yml');
    project.lifecycles['provision']![0]!.raw['with'] = {
      name: 'guest-invite${{AZURE_RESOURCE_GROUP_NAME}}${{BOT_ID}}${{TEAMS_APP_ID}}',
    };
    // TEAMS_APP_ID is written by this very step, so only later steps may rely on it.
    assert.deepEqual(
      undefinedVariables(project, 'env/.env.dev', true).map((p) => p.split(' ')[0]),
      ['BOT_ID', 'TEAMS_APP_ID'],
    );
    const doc = readText('docs', 'teams-app.md');
    for (const secret of USER_SECRETS) assert.ok(doc.includes(secret), `docs/teams-app.md names ${secret}`);
  });

  it('the variable check notices a variable that nothing defines', () => {
    const project = loadProject('teamsapp.yml');
    const step = project.lifecycles['provision']![0]!;
    step.raw['with'] = { name: 'guest-invite${{NOT_DEFINED_ANYWHERE}}' };
    assert.deepEqual(
      undefinedVariables(project, 'env/.env.dev').map((p) => p.split(' ')[0]),
      ['NOT_DEFINED_ANYWHERE'],
    );
  });

  it('keeps secrets out of the committed environment files', () => {
    for (const file of ['env/.env.dev', 'env/.env.local']) {
      for (const [key, value] of readEnvFile(file)) {
        if (key.startsWith('SECRET_'))
          assert.ok(value === '' || value === 'none', `${file}: ${key} must be empty (or the sentinel none) here`);
      }
    }
    const gitignore = readText('.gitignore');
    assert.match(gitignore, /^env\/\.env\.\*\.user$/m);
  });
});

describe('Azure infrastructure (infra/)', () => {
  const bicep = (): string => readText('infra', 'azure.bicep');

  it('every template parameter without a default is supplied, and nothing else', () => {
    const params = new Map<string, boolean>();
    for (const m of bicep().matchAll(/^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+\w+(\s*=)?/gm)) {
      params.set(m[1] as string, Boolean(m[2]));
    }
    const supplied = Object.keys(
      (JSON.parse(readText('infra', 'azure.parameters.json')) as { parameters: Record<string, unknown> }).parameters,
    );
    for (const name of supplied) assert.ok(params.has(name), `azure.parameters.json sets unknown parameter ${name}`);
    for (const [name, hasDefault] of params) {
      if (!hasDefault) assert.ok(supplied.includes(name), `parameter ${name} has no value`);
    }
  });

  it('runs the bot on Node 22 with the runtime settings it reads', () => {
    const text = bicep();
    assert.match(text, /linuxFxVersion:\s*'NODE\|22-lts'/);
    assert.match(text, /msaAppType:\s*'SingleTenant'/);
    assert.match(text, /channelName:\s*'MsTeamsChannel'/);
    assert.match(text, /endpoint:\s*'https:\/\/\$\{webApp\.properties\.defaultHostName\}\/api\/messages'/);
    const settings = new Set(
      Array.from(text.matchAll(/name:\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\n\s*value:/g), (m) => m[1]),
    );
    for (const name of [
      'MicrosoftAppId',
      'MicrosoftAppPassword',
      'MicrosoftAppType',
      'MicrosoftAppTenantId',
      'GRAPH_MODE',
      'GRAPH_TENANT_ID',
      'GRAPH_CLIENT_ID',
      'GRAPH_CLIENT_SECRET',
      'AZURE_CLIENT_ID',
      'DATABASE_URL',
      'DATABASE_POOL_MAX',
      'INVITE_REDIRECT_URL_DEFAULT',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'ALLOWED_TENANT_IDS',
    ]) {
      assert.ok(settings.has(name), `app setting ${name} is missing`);
    }
    for (const name of ['BOT_DOMAIN', 'BOT_ENDPOINT', 'BOT_AZURE_APP_SERVICE_RESOURCE_ID']) {
      assert.ok(bicepOutputs('infra/azure.bicep').includes(name), `output ${name} is missing`);
    }
  });

  it('stores everything in a private PostgreSQL flexible server that requires TLS, for instanceCount instances (2)', () => {
    const text = bicep();
    assert.match(text, /^param instanceCount int = 2$/m);
    assert.match(text, /capacity:\s*instanceCount/);
    assert.match(text, /clientAffinityEnabled:\s*false/);
    assert.match(text, /'Microsoft\.DBforPostgreSQL\/flexibleServers@[\d-]+'/);
    assert.match(text, /delegatedSubnetResourceId:/, 'private access (a delegated subnet)');
    assert.match(text, /privateDnsZoneArmResourceId:/);
    assert.match(text, /virtualNetworkSubnetId:/, 'the web app joins the virtual network');
    assert.match(text, /name:\s*'require_secure_transport'\s*\n\s*properties:\s*\{\s*\n\s*value:\s*'on'/);
    assert.match(
      text,
      /var databaseUrl = 'postgres:\/\/[^']*\?sslmode=verify-full'/,
      'pg 9 reads sslmode=require as no certificate check',
    );
    assert.match(text, /name:\s*'database-url'\s*\n\s*properties:\s*\{\s*\n\s*value:\s*databaseUrl/);
  });

  it('keeps secrets in Key Vault: every secret app setting is a Key Vault reference read with the managed identity', () => {
    const text = bicep();
    for (const name of ['MicrosoftAppPassword', 'DATABASE_URL', 'GRAPH_CLIENT_SECRET']) {
      const m = new RegExp(`name:\\s*'${name}'\\s*\\n\\s*value:\\s*'([^\\n]*)'`).exec(text);
      assert.ok(m, `app setting ${name}`);
      assert.match(
        m[1] as string,
        /^@Microsoft\.KeyVault\(SecretUri=\$\{\w+\.properties\.secretUri\}\)$/,
        `${name} is a Key Vault reference`,
      );
    }
    assert.match(text, /keyVaultReferenceIdentity:\s*identity\.id/);
    assert.match(text, /enableRbacAuthorization:\s*true/);
    assert.match(text, /4633458b-17de-408a-b874-0445c86b69e6/, 'Key Vault Secrets User for the identity');
    for (const secret of ['botAadAppClientSecret', 'graphClientSecret', 'postgresAdminPassword']) {
      const settingsBlock = text.slice(text.indexOf('var commonSettings'), text.indexOf('resource webApp'));
      assert.doesNotMatch(settingsBlock, new RegExp(`value:\\s*${secret}\\b`), `${secret} is not a plain app setting`);
    }
  });

  it('limits instances and connections to what a Basic plan and a B1ms server allow', () => {
    const text = bicep();
    const maxInstances = Number(
      /@maxValue\((\d+)\)\s*\n@description\([^\n]*\)\s*\nparam instanceCount/.exec(text)?.[1],
    );
    assert.ok(maxInstances <= 3, 'Basic (B1) plans allow at most 3 instances');
    const pool = Number(/^param databasePoolMax int = (\d+)$/m.exec(text)?.[1]);
    // Each instance at its pool limit, twice over while a restart overlaps, under B1ms's 35 user connections.
    assert.ok(maxInstances * pool * 2 <= 35, `${maxInstances} instances x ${pool} connections x 2`);
    assert.match(text, /name:\s*'DATABASE_POOL_MAX'\s*\n\s*value:\s*string\(databasePoolMax\)/);
  });

  it('checks readiness from App Service, sends telemetry to workspace-based Application Insights, and alerts', () => {
    const text = bicep();
    const monitoring = readText('infra', 'monitoring.bicep');
    assert.match(text, /healthCheckPath:\s*'\/health\/ready'/);
    assert.match(text, /'Microsoft\.OperationalInsights\/workspaces@/);
    assert.match(text, /WorkspaceResourceId:\s*logs\.id/);
    assert.match(
      text,
      /name:\s*'APPLICATIONINSIGHTS_CONNECTION_STRING'\s*\n\s*value:\s*insights\.properties\.ConnectionString/,
    );
    for (const alert of ['operations-failing', 'operation-stuck', 'graph-5xx', 'graph-throttled'])
      assert.ok(monitoring.includes(`name: '${alert}'`), alert);
    assert.match(monitoring, /metricName:\s*'HealthCheckStatus'/, 'app down');
    assert.match(monitoring, /var stuckSeconds = \(replicationWaitMinutes \+ 15\) \* 60/);
    assert.match(monitoring, /serializedData:\s*loadTextContent\('workbook\.json'\)/);
    // Every metric the alerts and the workbook read is one the bot records (src/telemetry/telemetry.ts or the host's
    // gauges).
    const recorded = readText('src', 'telemetry', 'telemetry.ts') + readText('src', 'host', 'gauges.ts');
    const workbook = readText('infra', 'workbook.json');
    for (const name of new Set(
      [...monitoring.matchAll(/guestinvite\.[a-z_.]+[a-z]/g), ...workbook.matchAll(/guestinvite\.[a-z_.]+[a-z]/g)].map(
        (m) => m[0],
      ),
    )) {
      if (name.startsWith('guestinvite.activity')) continue;
      assert.ok(recorded.includes(`'${name}'`), `${name} is read by an alert or the workbook but never recorded`);
    }
    const parsed = JSON.parse(workbook) as { version: string; items: Array<{ type: number }> };
    assert.equal(parsed.version, 'Notebook/1.0');
    assert.ok(parsed.items.filter((i) => i.type === 3).length >= 8, "the workbook's query panels");
  });

  it('grants the managed identity exactly the Graph application permissions of src/graph/permissions.ts (Microsoft Graph Bicep extension)', () => {
    const listed = JSON.parse(readText('infra', 'graph-permissions.json')) as string[];
    assert.deepEqual([...listed].sort(), [...REQUIRED_PERMISSION_NAMES].sort());
    const doc = readText('docs', 'permissions.md');
    for (const name of listed) assert.ok(doc.includes(name), `docs/permissions.md names ${name}`);
    const text = bicep();
    assert.match(text, /^extension microsoftGraphV1$/m);
    const config = JSON.parse(readText('infra', 'bicepconfig.json')) as { extensions: Record<string, string> };
    assert.match(
      config.extensions['microsoftGraphV1'] ?? '',
      /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+/,
    );
    assert.match(text, /var graphPermissions = loadJsonContent\('graph-permissions\.json'\)/);
    assert.match(
      text,
      /resource graphGrants 'Microsoft\.Graph\/appRoleAssignedTo@v1\.0' = \[for permission in graphPermissions: if \(grantToIdentity\) \{/,
    );
    assert.match(text, /principalId:\s*identity\.properties\.principalId/);
    assert.match(text, /appId:\s*'00000003-0000-0000-c000-000000000000'/, "Microsoft Graph's own service principal");
  });

  // Each resource type at the API version whose published types (Azure/bicep-types-az
  // generated/<rp>/<version>/types.md,
  // or the Microsoft Graph Bicep reference) list the properties this template sets.
  const API_VERSIONS: Record<string, string> = {
    'Microsoft.Network/virtualNetworks': '2023-05-01',
    'Microsoft.Network/privateDnsZones': '2020-06-01',
    'Microsoft.Network/privateDnsZones/virtualNetworkLinks': '2020-06-01',
    // 2024-08-01 lists ServerVersion '16' (2022-12-01 stops at '14'), and makes network.publicNetworkAccess writable.
    'Microsoft.DBforPostgreSQL/flexibleServers': '2024-08-01',
    'Microsoft.DBforPostgreSQL/flexibleServers/configurations': '2024-08-01',
    'Microsoft.DBforPostgreSQL/flexibleServers/databases': '2024-08-01',
    'Microsoft.ManagedIdentity/userAssignedIdentities': '2023-01-31',
    'Microsoft.Web/serverfarms': '2022-09-01',
    // SiteConfig.healthCheckPath, vnetRouteAllEnabled; SiteProperties.keyVaultReferenceIdentity,
    // virtualNetworkSubnetId.
    'Microsoft.Web/sites': '2022-09-01',
    'Microsoft.BotService/botServices': '2022-09-15',
    'Microsoft.BotService/botServices/channels': '2022-09-15',
    'Microsoft.KeyVault/vaults': '2023-07-01',
    'Microsoft.KeyVault/vaults/secrets': '2023-07-01',
    'Microsoft.Authorization/roleAssignments': '2022-04-01',
    'Microsoft.OperationalInsights/workspaces': '2023-09-01',
    // Properties.WorkspaceResourceId and IngestionMode (workspace-based) exist from 2020-02-02.
    'Microsoft.Insights/components': '2020-02-02',
    'Microsoft.Insights/actionGroups': '2023-01-01',
    'Microsoft.Insights/scheduledQueryRules': '2023-12-01',
    'Microsoft.Insights/metricAlerts': '2018-03-01',
    'Microsoft.Insights/workbooks': '2023-06-01',
    'Microsoft.Graph/servicePrincipals': 'v1.0',
    'Microsoft.Graph/appRoleAssignedTo': 'v1.0',
  };

  it('uses each resource type at the API version its properties were checked against', () => {
    const used = new Map<string, string>();
    for (const file of ['azure.bicep', 'monitoring.bicep']) {
      for (const m of readText('infra', file).matchAll(/^resource\s+\w+\s+'([^'@]+)@([^']+)'/gm))
        used.set(m[1] as string, m[2] as string);
    }
    for (const [type, version] of used)
      assert.equal(version, API_VERSIONS[type], `${type}@${version} is not the checked version`);
    for (const type of Object.keys(API_VERSIONS)) assert.ok(used.has(type), `${type} is listed but not used`);
  });

  it('pins a current Bicep CLI (the 2022 v0.9.1 has no types for these API versions and no extensions)', () => {
    const version = /bicepCliVersion:\s*v(\d+)\.(\d+)\.(\d+)/.exec(readText('teamsapp.yml'));
    assert.ok(version, 'bicepCliVersion');
    assert.ok(Number(version[1]) > 0 || Number(version[2]) >= 30, `v${version.slice(1).join('.')}`);
  });
});

describe('docs/teams-app.md', () => {
  it('names every Graph application permission the bot needs', () => {
    const doc = readText('docs', 'teams-app.md');
    for (const permission of [
      'User.Invite.All',
      'GroupMember.ReadWrite.All',
      'Group.Read.All',
      'Application.Read.All',
      'Policy.Read.All',
      'RoleManagement.Read.Directory',
    ]) {
      assert.ok(doc.includes(permission), `missing ${permission}`);
    }
    assert.ok(doc.includes('SECRET_GRAPH_CLIENT_SECRET'));
  });
});
