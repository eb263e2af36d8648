import { describe, expect, it } from 'vitest';
import { createQueryPolicy } from './query-policy.js';

describe('createQueryPolicy (issue 16 item 14)', () => {
  const clean = createQueryPolicy({ marker: '[REDACTED]' });

  it('withholds the values of secret parameters, any case and any encoding of the name', () => {
    expect(clean('/v1/models/m:predict?api_key=sk-live-123&x=1')).toBe(
      '/v1/models/m:predict?api_key=[REDACTED]&x=1',
    );
    expect(clean('/p?API_KEY=a&Token=b&X-Amz-Signature=c&X-Amz-Credential=d&n=2#f')).toBe(
      '/p?API_KEY=[REDACTED]&Token=[REDACTED]&X-Amz-Signature=[REDACTED]&X-Amz-Credential=[REDACTED]&n=2#f',
    );
    expect(clean('/p?api%5Fkey=a&user[password]=b;sig=c')).toBe(
      '/p?api%5Fkey=[REDACTED]&user[password]=[REDACTED];sig=[REDACTED]',
    );
    expect(clean('http://u:pw@host/p?q=1')).toBe('http://[REDACTED]@host/p?q=1');
  });

  it('leaves other urls alone, the same string', () => {
    const url = '/v1/models/m:predict?monkey=1&keys=2&token';
    expect(clean(url)).toBe(url);
  });

  it('takes more names, and built-in names to keep', () => {
    const custom = createQueryPolicy({
      marker: '***',
      redactQueryParams: ['Tenant-Secret'],
      captureQueryParams: ['code'],
    });
    expect(custom('/p?tenant-secret=a&code=ABC&key=k')).toBe('/p?tenant-secret=***&code=ABC&key=***');
  });
});
