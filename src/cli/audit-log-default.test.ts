import { describe, expect, it } from 'vitest';
import { auditLogFor } from './commands/collect.js';

describe('collect: where audit lines go', () => {
  it('uses --audit-log as given, whether or not authentication is on', () => {
    expect(auditLogFor('/var/log/inferlog-audit.log', false, 'sqlite:./inferlog.db')).toBe(
      '/var/log/inferlog-audit.log',
    );
    expect(auditLogFor('-', true, 'sqlite:./inferlog.db')).toBe('-');
  });

  it('with authentication and no flag: beside the SQLite file, or ./inferlog-audit.log with PostgreSQL', () => {
    expect(auditLogFor(undefined, true, 'sqlite:./inferlog.db')).toBe('./inferlog.db.audit.log');
    expect(auditLogFor(undefined, true, 'sqlite:/var/lib/x.db?sync=full')).toBe('/var/lib/x.db.audit.log');
    expect(auditLogFor(undefined, true, 'postgres://u:pw@db:5432/inferlog')).toBe('./inferlog-audit.log');
  });

  it('without authentication and no flag: none (the loopback quick start has one anonymous user)', () => {
    expect(auditLogFor(undefined, false, 'sqlite:./inferlog.db')).toBeUndefined();
  });
});
