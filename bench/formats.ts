// Question 8: what a config file's format costs. The same config of about 1 MB as JSON,
// JSON5, YAML and TOML, each parsed the way a file layer parses it (parseConfigFormat:
// the parser and every check of ours), against JSON.parse of its JSON text; once as
// services (many small objects), once as one mapping of 30,000 keys, the shape that makes
// a quadratic duplicate-key check show. And, for YAML and TOML, what the parser package
// alone takes, to show what our checks add.
import { isDeepStrictEqual } from 'node:util';
import { dump, parseEvents } from 'js-yaml';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
// Internal, not exported by the package: the module the file layers call.
import { parseConfigFormat, type ParseConfigFormatOptions } from '../src/sources/formats/parse-config-format.js';
import type { ConfigFormat } from '../src/sources/formats/config-format.js';
import { figure, type Figure } from './figure.js';
import { timeOf, timeTasks, type TimedTask } from './measure.js';

/** Services in the config: about 1 MB as indented JSON, just under the two-turn limit of the JSON reader. */
const SERVICES = 2100;
/** Keys of the wide mapping: about 1 MB as indented JSON. */
const WIDE_KEYS = 30_000;

/** The services config: every JSON type, nesting to depth 4. */
function servicesConfig(): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < SERVICES; i++) {
    services[`svc-${i}`] = {
      image: `registry.example.com/team/app-${i}:1.${i % 50}.0`,
      replicas: (i % 7) + 1,
      enabled: i % 3 !== 0,
      ratio: (i % 100) / 8,
      ports: [8000 + (i % 1000), 9000 + (i % 1000)],
      env: { LOG_LEVEL: 'info', REGION: `eu-west-${i % 3}`, FEATURE_FLAGS: 'a,b,c' },
      limits: { cpu: '500m', memory: `${128 * ((i % 8) + 1)}Mi` },
      tags: ['web', 'public', `tier-${i % 4}`],
    };
  }
  return { version: 3, name: 'bench', services };
}

function wideConfig(): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (let i = 0; i < WIDE_KEYS; i++) settings[`key_${i}`] = `value number ${i}`;
  return { settings };
}

/** JSON5 as people write it: unquoted keys where they can be, single quotes, trailing commas, a comment. */
function toJson5(value: unknown, indent = ''): string {
  if (Array.isArray(value)) return `[${value.map((item) => toJson5(item, indent)).join(', ')}]`;
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const inner = `${indent}  `;
  const members = Object.entries(value).map(([key, item]) => `${inner}${/^[A-Za-z_$][\w$]*$/.test(key) ? key : `'${key}'`}: ${toJson5(item, inner)},`);
  return `{ // ${Object.keys(value).length} members\n${members.join('\n')}\n${indent}}`;
}

/** The config in every format. */
function textsOf(config: Record<string, unknown>): Record<ConfigFormat, string> {
  return { json: JSON.stringify(config, null, 2), json5: toJson5(config), yaml: dump(config), toml: stringifyToml(config) };
}

const FORMATS: readonly ConfigFormat[] = ['json', 'json5', 'yaml', 'toml'];

export async function benchFormats(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [shape, config] of [
    ['services', servicesConfig()],
    ['wide', wideConfig()],
  ] as const) {
    const texts = textsOf(config);
    const options = (format: ConfigFormat): ParseConfigFormatOptions => ({ format, source: `bench.${format}`, maxDepth: 256 });
    // Every text must give the config back, or the timings compare different work.
    for (const format of FORMATS) {
      const parsed = await parseConfigFormat(texts[format], options(format));
      if (!isDeepStrictEqual(parsed, config)) throw new Error(`formats: the ${format} text of the ${shape} config does not parse back to it`);
    }
    const tasks: TimedTask[] = [
      { name: 'JSON.parse', fn: () => JSON.parse(texts.json) as unknown },
      ...FORMATS.map((format) => ({ name: format, fn: () => parseConfigFormat(texts[format], options(format)) })),
      { name: 'js-yaml parseEvents', fn: () => parseEvents(texts.yaml, { maxDepth: 258 }) },
      { name: 'smol-toml parse', fn: () => parseToml(texts.toml) },
    ];
    const times = await timeTasks(tasks, { rounds: 3, time: 300 });
    const baseline = timeOf(times, 'JSON.parse');
    const size = `${Math.round(texts.json.length / 1024)} KiB as JSON`;
    const described = shape === 'services' ? `${SERVICES} services, ${size}` : `one mapping of ${WIDE_KEYS} keys, ${size}`;
    for (const format of FORMATS) {
      figures.push(
        figure({
          id: `formats.${shape}.${format}.vs-json-parse`,
          question: 8,
          name: `parse ${format.toUpperCase()} (${described})`,
          value: timeOf(times, format),
          unit: 'ms/parse',
          baseline: 'JSON.parse of the JSON text',
          baselineValue: baseline,
        }),
      );
    }
    if (shape === 'services') {
      figures.push(
        figure({ id: 'formats.services.yaml.vs-js-yaml', question: 8, name: `parse YAML (${described})`, value: timeOf(times, 'yaml'), unit: 'ms/parse', baseline: "js-yaml's parseEvents alone", baselineValue: timeOf(times, 'js-yaml parseEvents') }),
        figure({ id: 'formats.services.toml.vs-smol-toml', question: 8, name: `parse TOML (${described})`, value: timeOf(times, 'toml'), unit: 'ms/parse', baseline: "smol-toml's parse alone", baselineValue: timeOf(times, 'smol-toml parse') }),
      );
    }
  }
  return figures;
}
