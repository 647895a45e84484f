// Review of the secrets feature (DESIGN.md §5.3, docs/secrets.md): ways a secret value
// reached a surface the docs promise is clean. Each test is named after the behaviour
// promised; all fixed, kept as regressions (among them `$ref`s resolved against a
// subschema's own `$id`, as ajv resolves them).
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigStore, envSecrets } from '../../src/index.js';
import { makeCanary } from '../helpers/secret-canary.js';

/** Everything `redacted()` and `explain('')` show, as text. */
async function shownBy(schema: unknown, initial: unknown): Promise<string> {
  const store = await ConfigStore.create({ schema: schema as never, initial: initial as never });
  try {
    return JSON.stringify(store.load().redacted()) + JSON.stringify(store.explain(''));
  } finally {
    await store.close();
  }
}

describe('a writeOnly node reached through a $ref that ajv resolves is sensitive', () => {
  it('a fragment $ref inside a subschema with its own $id (resolved against that $id, as ajv does)', async () => {
    const canary = makeCanary();
    const schema = {
      type: 'object',
      properties: {
        db: { $id: 'https://example.com/db', type: 'object', $defs: { pw: { type: 'string', writeOnly: true } }, properties: { password: { $ref: '#/$defs/pw' } } },
      },
    };
    expect(await shownBy(schema, { db: { password: canary } })).not.toContain(canary);
  });

  it('an absolute $ref to a node whose $id is relative to the root $id', async () => {
    const canary = makeCanary();
    const schema = {
      $id: 'https://example.com/root.json',
      type: 'object',
      definitions: { pw: { $id: 'pw.json', type: 'string', writeOnly: true } },
      properties: { password: { $ref: 'https://example.com/pw.json' } },
    };
    expect(await shownBy(schema, { password: canary })).not.toContain(canary);
  });

  it('a relative $ref naming the root document (root.json#/definitions/pw)', async () => {
    const canary = makeCanary();
    const schema = {
      $id: 'https://example.com/root.json',
      type: 'object',
      definitions: { pw: { type: 'string', writeOnly: true } },
      properties: { password: { $ref: 'root.json#/definitions/pw' } },
    };
    expect(await shownBy(schema, { password: canary })).not.toContain(canary);
  });
});

describe('a writeOnly node under draft-07 keywords the default ajv applies is sensitive', () => {
  it('a schema dependency (draft-07 `dependencies`, the default engine\'s dependentSchemas)', async () => {
    const canary = makeCanary();
    const schema = {
      type: 'object',
      properties: { mode: { type: 'string' } },
      dependencies: { mode: { type: 'object', properties: { password: { type: 'string', writeOnly: true } } } },
    };
    expect(await shownBy(schema, { mode: 'x', password: canary })).not.toContain(canary);
  });
});

describe('explain() hides a resolved secret at every moment the new generation is live', () => {
  it('a commit hook that calls explain() sees [redacted] at a newly referenced path', async () => {
    const canary = makeCanary();
    let ready = false;
    let seen = '';
    const store = await ConfigStore.create({
      schema: { type: 'object', properties: { apiKey: { type: 'string' } } } as const,
      secrets: [envSecrets({ environment: { API_KEY: canary } })],
      initial: {},
      participants: [
        {
          name: 'logger',
          prepare: () => ({
            commit: () => {
              if (ready) seen = JSON.stringify(store.explain('/apiKey')) + JSON.stringify(store.explain(''));
            },
          }),
        },
      ],
    });
    try {
      ready = true;
      const result = await store.reload({ apiKey: { $secret: 'env:API_KEY' } } as never);
      expect(result.status).toBe('applied');
      expect(seen).not.toBe('');
      expect(seen).not.toContain(canary);
    } finally {
      await store.close();
    }
  });
});

describe('a $secret text written in place is never repeated', () => {
  it('a $secret holding a URL with credentials (a scheme with no resolver) is refused without quoting it', async () => {
    const canary = makeCanary();
    const store = await ConfigStore.create({ schema: { type: 'object' }, secrets: [envSecrets()], initial: {} });
    try {
      const failure = await store.reload({ db: { $secret: `postgres://app:${canary}@db/app` } }).catch((error: unknown) => error);
      expect(inspect(failure, { depth: 20, showHidden: true })).not.toContain(canary);
      expect(inspect(store.status(), { depth: 20 })).not.toContain(canary);
    } finally {
      await store.close();
    }
  });
});
