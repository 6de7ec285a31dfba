import { createHash } from 'node:crypto';

import { isVisitorKeyDigest, visitorKeyDigest, visitorKeyFingerprint } from './visitor-key.js';

const SECRET = 'visitor-key-secret-0123456789';

describe('visitorKeyDigest', () => {
  it('says how it was made, fits the 128-character column, and is told from a clear key', () => {
    for (const secret of [SECRET, undefined]) {
      const digest = visitorKeyDigest('s%3Aabc.def', secret);
      expect(digest.startsWith(`v1:${visitorKeyFingerprint(secret)}:`)).toBe(true);
      expect(digest.length).toBeLessThanOrEqual(76);
      expect(isVisitorKeyDigest(digest)).toBe(true);
      // Hashed again it is another digest: the upgrade must never do that.
      expect(visitorKeyDigest(digest, secret)).not.toBe(digest);
    }
    expect(visitorKeyFingerprint(undefined)).toBe('sha256');
    expect(visitorKeyFingerprint(SECRET)).toMatch(/^[0-9a-f]{8}$/);
    expect(visitorKeyFingerprint(SECRET)).not.toBe(visitorKeyFingerprint(`${SECRET}!`));
  });

  it('takes none of what earlier versions stored in clear for a digest', () => {
    const legacyLongKey = createHash('sha256').update('x'.repeat(300)).digest('hex');
    for (const clear of ['abcDEF123_-', 'ann@example.com', legacyLongKey, 'v1:sha256:abc']) {
      expect(isVisitorKeyDigest(clear)).toBe(false);
    }
  });
});
