import { describe, expect, it } from 'vitest';
import { ComponentError } from './errors.js';
import { UriTemplate, expand, isTemplate } from './uri-template.js';

// RFC 6570 section 3.2 example variables.
const VARS = {
  count: ['one', 'two', 'three'],
  dom: ['example', 'com'],
  dub: 'me/too',
  hello: 'Hello World!',
  half: '50%',
  var: 'value',
  who: 'fred',
  base: 'http://example.com/home/',
  path: '/foo/bar',
  list: ['red', 'green', 'blue'],
  keys: { semi: ';', dot: '.', comma: ',' },
  v: '6',
  x: '1024',
  y: '768',
  empty: '',
  empty_keys: {},
  undef: null,
};

describe('expand (RFC 6570 examples)', () => {
  const cases: [string, string][] = [
    // Level 1
    ['{var}', 'value'],
    ['{hello}', 'Hello%20World%21'],
    // Level 2
    ['{+var}', 'value'],
    ['{+hello}', 'Hello%20World!'],
    ['{+path}/here', '/foo/bar/here'],
    ['here?ref={+path}', 'here?ref=/foo/bar'],
    ['X{#var}', 'X#value'],
    ['X{#hello}', 'X#Hello%20World!'],
    // Level 3
    ['map?{x,y}', 'map?1024,768'],
    ['{x,hello,y}', '1024,Hello%20World%21,768'],
    ['{+x,hello,y}', '1024,Hello%20World!,768'],
    ['{+path,x}/here', '/foo/bar,1024/here'],
    ['{#x,hello,y}', '#1024,Hello%20World!,768'],
    ['{#path,x}/here', '#/foo/bar,1024/here'],
    ['X{.var}', 'X.value'],
    ['X{.x,y}', 'X.1024.768'],
    ['{/var}', '/value'],
    ['{/var,x}/here', '/value/1024/here'],
    ['{;x,y}', ';x=1024;y=768'],
    ['{;x,y,empty}', ';x=1024;y=768;empty'],
    ['{?x,y}', '?x=1024&y=768'],
    ['{?x,y,empty}', '?x=1024&y=768&empty='],
    ['?fixed=yes{&x}', '?fixed=yes&x=1024'],
    ['{&x,y,empty}', '&x=1024&y=768&empty='],
    // Level 4
    ['{var:3}', 'val'],
    ['{var:30}', 'value'],
    ['{list}', 'red,green,blue'],
    ['{list*}', 'red,green,blue'],
    ['{keys}', 'semi,%3B,dot,.,comma,%2C'],
    ['{keys*}', 'semi=%3B,dot=.,comma=%2C'],
    ['{+path:6}/here', '/foo/b/here'],
    ['{+list}', 'red,green,blue'],
    ['{+list*}', 'red,green,blue'],
    ['{+keys}', 'semi,;,dot,.,comma,,'],
    ['{+keys*}', 'semi=;,dot=.,comma=,'],
    ['{#path:6}/here', '#/foo/b/here'],
    ['{#list}', '#red,green,blue'],
    ['{#list*}', '#red,green,blue'],
    ['{#keys}', '#semi,;,dot,.,comma,,'],
    ['{#keys*}', '#semi=;,dot=.,comma=,'],
    ['X{.var:3}', 'X.val'],
    ['X{.list}', 'X.red,green,blue'],
    ['X{.list*}', 'X.red.green.blue'],
    ['X{.keys}', 'X.semi,%3B,dot,.,comma,%2C'],
    ['X{.keys*}', 'X.semi=%3B.dot=..comma=%2C'],
    ['{/var:1,var}', '/v/value'],
    ['{/list}', '/red,green,blue'],
    ['{/list*}', '/red/green/blue'],
    ['{/list*,path:4}', '/red/green/blue/%2Ffoo'],
    ['{/keys}', '/semi,%3B,dot,.,comma,%2C'],
    ['{/keys*}', '/semi=%3B/dot=./comma=%2C'],
    ['{;hello:5}', ';hello=Hello'],
    ['{;list}', ';list=red,green,blue'],
    ['{;list*}', ';list=red;list=green;list=blue'],
    ['{;keys}', ';keys=semi,%3B,dot,.,comma,%2C'],
    ['{;keys*}', ';semi=%3B;dot=.;comma=%2C'],
    ['{?var:3}', '?var=val'],
    ['{?list}', '?list=red,green,blue'],
    ['{?list*}', '?list=red&list=green&list=blue'],
    ['{?keys}', '?keys=semi,%3B,dot,.,comma,%2C'],
    ['{?keys*}', '?semi=%3B&dot=.&comma=%2C'],
    ['{&var:3}', '&var=val'],
    ['{&list}', '&list=red,green,blue'],
    ['{&list*}', '&list=red&list=green&list=blue'],
    ['{&keys}', '&keys=semi,%3B,dot,.,comma,%2C'],
    ['{&keys*}', '&semi=%3B&dot=.&comma=%2C'],
    // Section 3.2.1: undefined and empty values
    ['{undef}', ''],
    ['{empty}', ''],
    ['{?undef,x}', '?x=1024'],
    ['{empty_keys}', ''],
    ['O{empty}X', 'OX'],
    ['{half}', '50%25'],
    ['{+half}', '50%25'],
    ['{dub}', 'me%2Ftoo'],
    ['{+dub}', 'me/too'],
    ['{base}index', 'http%3A%2F%2Fexample.com%2Fhome%2Findex'],
    ['{+base}index', 'http://example.com/home/index'],
    ['{count}', 'one,two,three'],
    ['{count*}', 'one,two,three'],
    ['{/count}', '/one,two,three'],
    ['{/count*}', '/one/two/three'],
    ['{;count}', ';count=one,two,three'],
    ['{;count*}', ';count=one;count=two;count=three'],
    ['{?count}', '?count=one,two,three'],
    ['{?count*}', '?count=one&count=two&count=three'],
    ['{&count*}', '&count=one&count=two&count=three'],
    ['www{.dom*}', 'www.example.com'],
    ['{who}', 'fred'],
    ['{who,who}', 'fred,fred'],
  ];
  it.each(cases)('%s -> %s', (template, expected) => {
    expect(expand(template, VARS)).toBe(expected);
  });

  it('encodes non-ASCII as UTF-8 and keeps pct-encoded triplets in reserved expansion', () => {
    expect(expand('{x}', { x: 'é/ü' })).toBe('%C3%A9%2F%C3%BC');
    expect(expand('{+x}', { x: '%2F a[b]' })).toBe('%2F%20a[b]');
    expect(expand('{x:2}', { x: '😀😀😀' })).toBe('%F0%9F%98%80%F0%9F%98%80');
  });

  it('stringifies numbers and booleans', () => {
    expect(expand('{?n,b}', { n: 3, b: false })).toBe('?n=3&b=false');
  });
});

describe('UriTemplate.match', () => {
  it('matches the conformance template and decodes', () => {
    const t = new UriTemplate('test://template/{id}/data');
    expect(t.match('test://template/123/data')).toEqual({ id: '123' });
    expect(t.match('test://template/a%20b/data')).toEqual({ id: 'a b' });
    expect(t.match('test://template/1/2/data')).toBeUndefined();
    expect(t.match('test://template/123/other')).toBeUndefined();
    expect(t.match('xtest://template/123/data')).toBeUndefined();
    expect(t.match('test://template/123/data/more')).toBeUndefined();
  });

  it('treats literal regexp characters literally', () => {
    const t = new UriTemplate('a.b+c://x(y)/{id}');
    expect(t.match('a.b+c://x(y)/7')).toEqual({ id: '7' });
    expect(t.match('aXb+c://x(y)/7')).toBeUndefined();
  });

  it('omits variables that matched nothing', () => {
    expect(new UriTemplate('notes://{id}').match('notes://')).toEqual({});
  });

  it('reads reserved expansion across slashes and before a query', () => {
    const t = new UriTemplate('file:///{+path}{?rev}');
    expect(t.match('file:///a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(t.match('file:///a/b?rev=3')).toEqual({ path: 'a/b', rev: '3' });
  });

  it('reads fragments, labels and path segments', () => {
    expect(new UriTemplate('doc://x{#section}').match('doc://x#intro')).toEqual({
      section: 'intro',
    });
    expect(new UriTemplate('doc://x{#section}').match('doc://x')).toEqual({});
    expect(new UriTemplate('file://{name}{.ext}').match('file://report.pdf')).toEqual({
      name: 'report',
      ext: 'pdf',
    });
    expect(new UriTemplate('www{.dom*}').match('www.example.com')).toEqual({
      dom: ['example', 'com'],
    });
    expect(new UriTemplate('repo://{owner}{/path*}').match('repo://me/src/index.ts')).toEqual({
      owner: 'me',
      path: ['src', 'index.ts'],
    });
    expect(new UriTemplate('x://h{/a,b}/end').match('x://h/1/2/end')).toEqual({ a: '1', b: '2' });
  });

  it('reads query parameters by name, in any order, ignoring unknown ones', () => {
    const t = new UriTemplate('search://q{?term,page}');
    expect(t.match('search://q?term=cats&page=2')).toEqual({ term: 'cats', page: '2' });
    expect(t.match('search://q?page=2&term=a%26b')).toEqual({ term: 'a&b', page: '2' });
    expect(t.match('search://q?term=x&utm=1')).toEqual({ term: 'x' });
    expect(t.match('search://q')).toEqual({});
    expect(t.match('search://q?empty')).toEqual({});
  });

  it('collects exploded query lists and continuation expressions', () => {
    expect(new UriTemplate('s://q{?tag*}').match('s://q?tag=a&tag=b')).toEqual({ tag: ['a', 'b'] });
    expect(new UriTemplate('s://q?fixed=1{&x,y}').match('s://q?fixed=1&x=2&y=3')).toEqual({
      x: '2',
      y: '3',
    });
    expect(new UriTemplate('s://q{?a}{&b}').match('s://q?a=1&b=2')).toEqual({ a: '1', b: '2' });
  });

  it('reads path-style parameters', () => {
    expect(new UriTemplate('m://x{;w,h}').match('m://x;w=10;h=20')).toEqual({ w: '10', h: '20' });
    expect(new UriTemplate('m://x{;flag}').match('m://x;flag')).toEqual({ flag: '' });
  });

  it('splits multi-variable simple expressions positionally', () => {
    const t = new UriTemplate('map://{x,y}');
    expect(t.match('map://1024,768')).toEqual({ x: '1024', y: '768' });
    expect(t.match('map://1,2,3')).toEqual({ x: '1', y: '2,3' });
    expect(new UriTemplate('l://{list*}').match('l://red,green')).toEqual({
      list: ['red', 'green'],
    });
  });

  it('keeps the full reading of a repeated variable', () => {
    expect(new UriTemplate('u://{var:1}/{var}').match('u://v/value')).toEqual({ var: 'value' });
  });

  it('round-trips what it expands', () => {
    const cases: [string, Record<string, string | string[]>][] = [
      ['users://{id}/posts/{post}', { id: 'a b', post: '42' }],
      ['file:///{+path}', { path: 'dir/sub/file name.txt' }],
      ['s://x{?q,lang}', { q: 'x&y=z', lang: 'fr' }],
      ['p://{/segments*}', { segments: ['a', 'b c'] }],
    ];
    for (const [template, vars] of cases) {
      const t = new UriTemplate(template);
      expect(t.match(t.expand(vars))).toEqual(vars);
    }
  });

  it('keeps malformed escapes as they are', () => {
    expect(new UriTemplate('x://{id}').match('x://%zz')).toEqual({ id: '%zz' });
  });

  it('lists variable names in order of first appearance', () => {
    expect(new UriTemplate('x://{a}/{b,a}{?c*}').variableNames).toEqual(['a', 'b', 'c']);
  });
});

describe('template parsing', () => {
  it.each(['x://{id', 'x://id}', 'x://{}', 'x://{=x}', 'x://{a b}', 'x://{a:0}', 'x://{a:99999}'])(
    'rejects %s',
    (template) => {
      expect(() => new UriTemplate(template)).toThrow(ComponentError);
    },
  );

  it('accepts dotted and pct-encoded names and detects templates', () => {
    expect(new UriTemplate('x://{a.b,%41}').variableNames).toEqual(['a.b', '%41']);
    expect(isTemplate('x://{id}')).toBe(true);
    expect(isTemplate('x://plain')).toBe(false);
  });
});
