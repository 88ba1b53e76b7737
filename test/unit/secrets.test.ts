import { describe, expect, it } from 'vitest';
import { scrubSecrets, secretValues } from '../../src/activities/secrets';

describe('secretValues', () => {
  it('picks variables by name, with values of at least 8 characters', () => {
    const env = {
      OPENAI_API_KEY: 'sk-openai-123',
      TEMPORAL_API_KEY: 'temporal-key-1',
      GITHUB_TOKEN: 'ghp_abcdefgh',
      DB_PASSWORD: 'hunter2hunter2',
      MYSQL_PASSWD: 'passwd-value',
      CLIENT_SECRET: 'client-secret',
      GOOGLE_APPLICATION_CREDENTIALS: '/etc/creds.json',
      SSH_PRIVATE_KEY: '-----BEGIN KEY-----\nabc\n-----END KEY-----',
      stripe_apikey: 'stripe-lowercase',
      SHORT_TOKEN: 'abc1234',
      PATH: '/usr/local/bin:/usr/bin',
      HOME: '/home/someone',
      EMPTY_SECRET: '',
      UNSET_SECRET: undefined,
    };
    expect(
      secretValues(env)
        .map((s) => s.name)
        .sort(),
    ).toEqual(
      [
        'CLIENT_SECRET',
        'DB_PASSWORD',
        'GITHUB_TOKEN',
        'GOOGLE_APPLICATION_CREDENTIALS',
        'MYSQL_PASSWD',
        'OPENAI_API_KEY',
        'SSH_PRIVATE_KEY',
        'TEMPORAL_API_KEY',
        'stripe_apikey',
      ].sort(),
    );
  });

  it('orders the longest value first', () => {
    expect(secretValues({ A_TOKEN: 'abcdefgh', B_TOKEN: 'abcdefgh-longer' }).map((s) => s.name)).toEqual(['B_TOKEN', 'A_TOKEN']);
  });
});

describe('scrubSecrets', () => {
  const env = { OPENAI_API_KEY: 'sk-live-0123456789', MY_TOKEN: 'tok-abcdefgh', PRIVATE_KEY: 'line1-key\nline2-key', PATH: '/usr/bin' };

  it('replaces every occurrence by the variable name', () => {
    expect(scrubSecrets('a sk-live-0123456789 b sk-live-0123456789 tok-abcdefgh /usr/bin', env)).toBe(
      'a [REDACTED:OPENAI_API_KEY] b [REDACTED:OPENAI_API_KEY] [REDACTED:MY_TOKEN] /usr/bin',
    );
    expect(scrubSecrets('-----\nline1-key\nline2-key\n-----', env)).toBe('-----\n[REDACTED:PRIVATE_KEY]\n-----');
  });

  it('redacts a value inside a longer one whole, and leaves text without secrets alone', () => {
    expect(scrubSecrets('x', { SHORT_TOKEN: 'abcdefgh', LONG_TOKEN: 'abcdefgh-and-more' })).toBe('x');
    expect(scrubSecrets('[abcdefgh-and-more]', { SHORT_TOKEN: 'abcdefgh', LONG_TOKEN: 'abcdefgh-and-more' })).toBe('[[REDACTED:LONG_TOKEN]]');
  });

  it('uses the process environment by default', () => {
    process.env.INFTY_UNIT_TEST_SECRET = 'unit-test-secret-value';
    try {
      expect(scrubSecrets('see unit-test-secret-value')).toBe('see [REDACTED:INFTY_UNIT_TEST_SECRET]');
    } finally {
      delete process.env.INFTY_UNIT_TEST_SECRET;
    }
  });
});
