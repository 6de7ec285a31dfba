import {
  encodeValue,
  type MacroValues,
  parseParts,
  parseUrlTemplate,
  renderFields,
  renderUrl,
  TemplateSyntaxError,
  urlTemplateMacros,
} from './postback-template.js';

const HOSTILE_CLICK_ID = 'a&b=c#d e+f%20?x=/é😀';

/** Macro values from a plain record; a missing key is an absent macro. */
function valuesOf(record: Record<string, string>): MacroValues {
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

function render(url: string, record: Record<string, string>, extra?: string[]): string {
  return renderUrl(parseUrlTemplate(url), valuesOf(record), extra);
}

describe('parseParts', () => {
  it('splits literals and macros in order', () => {
    expect(parseParts('a{click_id}b{sub.aff_id}')).toEqual([
      { literal: 'a' },
      { macro: 'click_id' },
      { literal: 'b' },
      { macro: 'sub.aff_id' },
    ]);
  });

  it('returns a lone literal and an empty list for empty text', () => {
    expect(parseParts('plain')).toEqual([{ literal: 'plain' }]);
    expect(parseParts('')).toEqual([]);
  });

  it.each([
    ['stray closing brace', 'a}b', /stray "}"/],
    ['closing brace before an opening one', 'a}{click_id}', /stray "}"/],
    ['doubled closing brace', '{click_id}}', /stray "}"/],
    ['unclosed brace', 'a{click_id', /unclosed "{"/],
    ['empty macro', 'a{}b', /not a valid macro name/],
    ['uppercase macro', '{Click_ID}', /not a valid macro name/],
    ['nested braces', '{a{b}}', /not a valid macro name/],
    ['macro with a space', '{click id}', /not a valid macro name/],
  ])('refuses a %s', (_label, text, message) => {
    expect(() => parseParts(text)).toThrow(TemplateSyntaxError);
    expect(() => parseParts(text)).toThrow(message);
  });
});

describe('parseUrlTemplate', () => {
  it('splits origin, path and query pairs', () => {
    const template = parseUrlTemplate(
      'https://tracker.example:8443/pb/{click_id}?cid={click_id}&goal=sale&flag',
    );
    expect(template.origin).toBe('https://tracker.example:8443');
    expect(template.path).toEqual([{ literal: '/pb/' }, { macro: 'click_id' }]);
    expect(template.query).toEqual([
      { key: 'cid', value: [{ macro: 'click_id' }] },
      { key: 'goal', value: [{ literal: 'sale' }] },
      { key: 'flag', value: [] },
    ]);
    expect(urlTemplateMacros(template)).toEqual(['click_id', 'click_id']);
  });

  it.each([
    ['a macro in the host', 'https://{sub.host}.example/pb?cid={click_id}'],
    ['a fragment', 'https://tracker.example/pb?cid={click_id}#top'],
    ['a newline', 'https://tracker.example/pb?cid={click_id}\n'],
    ['a tab', 'https://tracker.example/pb?cid={click_id}&goal=big\tsale'],
    ['a trailing space', 'https://tracker.example/pb?cid={click_id} '],
    ['a space in the host', 'https://tracker .example/pb?cid={click_id}'],
    ['a relative URL', '/pb?cid={click_id}'],
    ['another scheme', 'ftp://tracker.example/pb'],
  ])('refuses %s', (_label, url) => {
    expect(() => parseUrlTemplate(url)).toThrow(TemplateSyntaxError);
  });

  it('refuses a macro as a query parameter name', () => {
    expect(() => parseUrlTemplate('https://t.example/pb?{event_type}=1')).toThrow(
      /query parameter name cannot be a macro/,
    );
    expect(() => parseUrlTemplate('https://t.example/pb?cid=1&{event_type}')).toThrow(
      TemplateSyntaxError,
    );
  });

  it('refuses stray braces in the path and in a query value', () => {
    expect(() => parseUrlTemplate('https://t.example/pb}/x')).toThrow(TemplateSyntaxError);
    expect(() => parseUrlTemplate('https://t.example/pb?cid={click_id')).toThrow(
      TemplateSyntaxError,
    );
  });

  it('refuses a host that does not parse', () => {
    expect(() => parseUrlTemplate('https://tracker.example:99999/pb')).toThrow();
  });
});

describe('literal text of a URL template', () => {
  // [template, what goes out]: the template's own text made RFC 3986, macro values aside.
  const GOLDEN: [string, string, string][] = [
    [
      '| and ^',
      'https://t.example/a|b^c?x=1|2^3&cid={click_id}',
      'https://t.example/a%7Cb%5Ec?x=1%7C2%5E3&cid=C1',
    ],
    [
      'non-ASCII',
      'https://t.example/café/{click_id}?city=Zürich&e=😀',
      'https://t.example/caf%C3%A9/C1?city=Z%C3%BCrich&e=%F0%9F%98%80',
    ],
    [
      'a % that starts no escape',
      'https://t.example/5%?rate=5%&x=%zz&y=%4&cid={click_id}',
      'https://t.example/5%25?rate=5%25&x=%25zz&y=%254&cid=C1',
    ],
    [
      'existing escapes, kept as written',
      'https://t.example/a%20b?note=big%20sale&s=%2f%2B&cid={click_id}',
      'https://t.example/a%20b?note=big%20sale&s=%2f%2B&cid=C1',
    ],
    [
      'characters no URL component allows',
      'https://t.example/q"<>`\\[]?v="<>`\\[]&cid={click_id}',
      'https://t.example/q%22%3C%3E%60%5C%5B%5D?v=%22%3C%3E%60%5C%5B%5D&cid=C1',
    ],
    [
      "the URL's structure and sub-delimiters",
      "https://t.example:8443/a/b;v=1,2/x:y@z!$'()*+?k=a=b&d=/p?q&s=!$()*+,;:@&cid={click_id}",
      "https://t.example:8443/a/b;v=1,2/x:y@z!$'()*+?k=a=b&d=/p?q&s=!$()*+,;:@&cid=C1",
    ],
    [
      "' in the query (WHATWG URL encodes it there)",
      "https://t.example/it's?v=it's&cid={click_id}",
      "https://t.example/it's?v=it%27s&cid=C1",
    ],
    [
      'an encoded parameter name',
      'https://t.example/pb?sub|1=x&sub^2={click_id}',
      'https://t.example/pb?sub%7C1=x&sub%5E2=C1',
    ],
    [
      'a non-ASCII host (its punycode)',
      'https://bücher.example/pb?cid={click_id}',
      'https://xn--bcher-kva.example/pb?cid=C1',
    ],
  ];

  it.each(GOLDEN)('encodes %s', (_label, template, expected) => {
    expect(render(template, { click_id: 'C1' })).toBe(expected);
  });

  it.each(GOLDEN)('sends %s exactly as rendered (no change by WHATWG URL)', (_l, template) => {
    const rendered = render(template, { click_id: 'C1' });
    expect(new URL(rendered).href).toBe(rendered);
  });

  it('reads back as the literal text it was written as', () => {
    const url = new URL(render('https://t.example/pb?note=a|b%20c^é%205%&ok=%41', {}));
    expect(url.searchParams.get('note')).toBe('a|b c^é 5%');
    expect(url.searchParams.get('ok')).toBe('A');
  });

  it.each([
    ['a space', 'https://t.example/pb?cid={click_id} &p=1', /a space at position 35.*%20/],
    ['a space in the path', 'https://t.example/my path/?cid={click_id}', /a space/],
    ['a no-break space', 'https://t.example/pb?cid={click_id}\u00a0&p=1', /U\+00A0/],
    ['a zero-width space', 'https://t.example/pb?cid=\u200b{click_id}', /U\+200B/],
    ['a line separator', 'https://t.example/pb?cid={click_id}\u2028&p=1', /U\+2028/],
    ['a byte-order mark', 'https://t.example/pb\ufeff?cid={click_id}', /U\+FEFF/],
  ])('refuses %s inside, asking for %%20', (_label, template, message) => {
    expect(() => parseUrlTemplate(template)).toThrow(message);
  });

  it.each(['https://u:p@t.example/pb?cid={click_id}', 'https://user@t.example/pb'])(
    'refuses credentials in %s, pointing to signing: basic',
    (template) => {
      expect(() => parseUrlTemplate(template)).toThrow(/credentials.*signing: \{ type: 'basic'/);
    },
  );

  it('refuses a lone surrogate', () => {
    expect(() => parseUrlTemplate('https://t.example/pb?x=\ud800')).toThrow(/lone UTF-16/);
  });
});

describe('encodeValue', () => {
  it("encodes the characters encodeURIComponent leaves alone: ! ' ( ) *", () => {
    expect(encodeValue("!'()*")).toBe('%21%27%28%29%2A');
  });

  it('keeps RFC 3986 unreserved characters and encodes everything else as UTF-8', () => {
    expect(encodeValue('AZaz09-._~')).toBe('AZaz09-._~');
    expect(encodeValue('a b+c/é')).toBe('a%20b%2Bc%2F%C3%A9');
  });
});

describe('renderUrl', () => {
  const template = 'https://tracker.example/pb?cid={click_id}&payout={payout}&goal=sale';

  it.each([
    ['a hostile click ID', HOSTILE_CLICK_ID],
    ['an equals sign', '='],
    ['an ampersand', '&'],
    ['a hash', '#'],
    ['a plus and a space', '+ +'],
    ['an already encoded sequence', '%41%2'],
    ['unicode', 'Ünïcødé-日本語'],
    ['an emoji', '😀👩‍👩‍👧'],
  ])('round-trips %s exactly into one query value', (_label, clickId) => {
    const rendered = render(template, { click_id: clickId, payout: '4.50' });
    const url = new URL(rendered);

    expect(url.searchParams.get('cid')).toBe(clickId);
    expect([...url.searchParams.keys()]).toEqual(['cid', 'payout', 'goal']);
    expect(url.searchParams.get('payout')).toBe('4.50');
    expect(url.searchParams.get('goal')).toBe('sale');
    expect(url.hash).toBe('');
    expect(url.host).toBe('tracker.example');
    expect(url.pathname).toBe('/pb');
  });

  it('leaves out a pair whose value is only an absent macro', () => {
    const url = new URL(render(template, { click_id: 'abc' }));
    expect([...url.searchParams.keys()]).toEqual(['cid', 'goal']);
  });

  it('keeps a pair whose only macro has an empty (but present) value', () => {
    const url = new URL(render(template, { click_id: 'abc', payout: '' }));
    expect([...url.searchParams.keys()]).toEqual(['cid', 'payout', 'goal']);
    expect(url.searchParams.get('payout')).toBe('');
  });

  it('renders an absent macro inside a larger literal as empty', () => {
    const rendered = render('https://t.example/pb?cid={click_id}&note=pay-{payout}-EUR', {
      click_id: 'abc',
    });
    expect(new URL(rendered).searchParams.get('note')).toBe('pay--EUR');
  });

  it('encodes path macros so a slash cannot add a path segment', () => {
    const rendered = render('https://t.example/pb/{click_id}/done', { click_id: 'x/y?z#w' });
    const url = new URL(rendered);

    expect(url.pathname.split('/')).toEqual(['', 'pb', 'x%2Fy%3Fz%23w', 'done']);
    expect(url.search).toBe('');
    expect(url.hash).toBe('');
    expect(decodeURIComponent(url.pathname.split('/')[2])).toBe('x/y?z#w');
  });

  it('appends extra pairs after the template pairs', () => {
    const rendered = render('https://t.example/pb?cid={click_id}', { click_id: 'a' }, ['t=1']);
    expect(rendered).toBe('https://t.example/pb?cid=a&t=1');
  });

  it('writes no "?" when no pair is left', () => {
    expect(render('https://t.example/pb?payout={payout}', {})).toBe('https://t.example/pb');
  });
});

describe('renderFields', () => {
  const fields = {
    click_id: parseParts('{click_id}'),
    payout: parseParts('{payout}'),
    note: parseParts('pay-{payout}-EUR'),
    goal: parseParts('sale'),
  };

  it('renders values unencoded (the body encoder encodes)', () => {
    expect(renderFields(fields, valuesOf({ click_id: HOSTILE_CLICK_ID, payout: '4.50' }))).toEqual({
      click_id: HOSTILE_CLICK_ID,
      payout: '4.50',
      note: 'pay-4.50-EUR',
      goal: 'sale',
    });
  });

  it('leaves out a field that is only an absent macro, and empties one inside a literal', () => {
    expect(renderFields(fields, valuesOf({ click_id: 'abc' }))).toEqual({
      click_id: 'abc',
      note: 'pay--EUR',
      goal: 'sale',
    });
  });
});
