import { describe, expect, it } from 'vitest';
import { combineGrants, liveOidcGroups, oidcUrlProblem, parseGroupGrant, parseOidcGroups } from './oidc.js';

describe('combineGrants: several groups never allow more than one of them does', () => {
  it('unions namespaces of groups that grant the same scope', () => {
    expect(
      combineGrants([
        { scopes: ['read'], namespaces: ['team-a'] },
        { scopes: ['read'], namespaces: ['team-b'] },
      ]),
    ).toEqual({ scopes: new Set(['read']), namespaces: ['team-a', 'team-b'] });
  });

  it('keeps no scope that would leak into another group’s namespace', () => {
    // read on team-a + ingest on team-b: one namespace list for both scopes would let the
    // user read team-b or write team-a, which neither group grants.
    const combined = combineGrants([
      { scopes: ['read'], namespaces: ['team-a'] },
      { scopes: ['ingest'], namespaces: ['team-b'] },
    ]);
    expect(combined.scopes.size).toBe(0);
  });

  it('an unrestricted admin group covers the restricted ones', () => {
    expect(combineGrants([{ scopes: ['read'], namespaces: ['team-a'] }, { scopes: ['admin'] }])).toEqual({
      scopes: new Set(['read', 'ingest', 'admin']),
    });
  });

  it('drops a restricted scope when another group is unrestricted for a different scope', () => {
    // ingest on team-a only + read everywhere: ingest everywhere would be a widening.
    expect(combineGrants([{ scopes: ['ingest'], namespaces: ['team-a'] }, { scopes: ['read'] }])).toEqual({
      scopes: new Set(['read']),
    });
  });

  it('models and namespaces together: no cell is granted that no group grants', () => {
    const combined = combineGrants([
      { scopes: ['read'], namespaces: ['team-a'], models: ['m1'] },
      { scopes: ['read'], namespaces: ['team-b'], models: ['m2'] },
    ]);
    // (team-a, m2) would be allowed by the union and no group grants it.
    expect(combined.scopes.size).toBe(0);
  });
});

describe('parseGroupGrant (the --oidc-group value)', () => {
  it('reads scopes, namespaces and models', () => {
    expect(parseGroupGrant('read,ingest:team-a,team-b:m1')).toEqual({
      scopes: ['read', 'ingest'],
      namespaces: ['team-a', 'team-b'],
      models: ['m1'],
    });
    expect(parseGroupGrant('admin')).toEqual({ scopes: ['admin'] });
    expect(parseGroupGrant('read:*:m1')).toEqual({ scopes: ['read'], models: ['m1'] });
  });

  it('says what is wrong', () => {
    expect(() => parseGroupGrant('write')).toThrow(/unknown scope "write"/);
    expect(() => parseGroupGrant('')).toThrow(/at least one scope/);
    expect(() => parseGroupGrant('read:team-a,')).toThrow(/comma-separated/);
    expect(() => parseGroupGrant('read:a:b:c')).toThrow(/SCOPES\[:NAMESPACES/);
  });
});

describe('parseOidcGroups (the auth file’s oidc.groups)', () => {
  it('reads the mapping', () => {
    const map = parseOidcGroups({
      'ml-readers': { scopes: ['read'], namespaces: ['team-a'] },
      'ml-admins': { scopes: ['admin'] },
    });
    expect(map.get('ml-readers')).toEqual({ scopes: ['read'], namespaces: ['team-a'] });
    expect(map.get('ml-admins')).toEqual({ scopes: ['admin'] });
  });

  it('names the field that is wrong', () => {
    const field = (value: unknown): unknown => {
      try {
        parseOidcGroups(value);
      } catch (err) {
        return (
          (err as { code: string; details: { option: string } }).code +
          ' ' +
          (err as { details: { option: string } }).details.option
        );
      }
      return 'no error';
    };
    expect(field([])).toBe('CONFIG_INVALID oidc.groups');
    expect(field({ g: { scopes: ['wrtie'] } })).toBe('CONFIG_INVALID oidc.groups.g.scopes');
    expect(field({ g: { namespaces: ['a'] } })).toBe('CONFIG_INVALID oidc.groups.g.scopes');
    expect(field({ g: { scopes: ['read'], namespace: ['a'] } })).toBe(
      'CONFIG_INVALID oidc.groups.g.namespace',
    );
    expect(field({ g: { scopes: ['read'], namespaces: [] } })).toBe(
      'CONFIG_INVALID oidc.groups.g.namespaces',
    );
  });
});

describe('oidcUrlProblem: keys come over https', () => {
  it('allows https anywhere and http only on loopback', () => {
    expect(oidcUrlProblem('https://idp.example.com')).toBeUndefined();
    expect(oidcUrlProblem('http://127.0.0.1:5556')).toBeUndefined();
    expect(oidcUrlProblem('http://localhost:5556/dex')).toBeUndefined();
    expect(oidcUrlProblem('http://idp.example.com')).toMatch(/must be https/);
    expect(oidcUrlProblem('http://127.0.0.1.nip.io')).toMatch(/must be https/);
    expect(oidcUrlProblem('not a url')).toMatch(/not a URL/);
  });
});

describe('liveOidcGroups: flags plus the auth file, reloaded', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  it('merges, lets the file win, follows reloads and keeps the last good map on a bad one', () => {
    const flags = new Map([['ml-readers', { scopes: ['read' as const], namespaces: ['team-a'] }]]);
    let section: unknown = { groups: { 'ml-readers': { scopes: ['read'], namespaces: ['team-b'] } } };
    const groups = liveOidcGroups(flags, () => section, quiet);
    expect(groups().get('ml-readers')).toEqual({ scopes: ['read'], namespaces: ['team-b'] });
    section = { groups: { 'ml-admins': { scopes: ['admin'] } } };
    expect([...groups().keys()].sort()).toEqual(['ml-admins', 'ml-readers']);
    section = { groups: { 'ml-admins': { scopes: ['root'] } } };
    expect(groups().get('ml-admins')).toEqual({ scopes: ['admin'] });
    section = undefined;
    expect([...groups().keys()]).toEqual(['ml-readers']);
  });

  it('fails at start on a bad section, naming the field', () => {
    expect(() => liveOidcGroups(new Map(), () => ({ issuer: 'x' }), quiet)).toThrow(
      /oidc\.issuer: unknown field/,
    );
  });
});
