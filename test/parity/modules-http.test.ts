import { describe, expect, it } from 'vitest';
import { checksumFromFile, dispositionFilename, getUrlModule, normalizeChecksum, parseChecksumArg, urlFilename, urlRequest } from '../../src/modules/get-url.js';
import { curlConfig, curlConfigValue, type FetchRequest } from '../../src/modules/http-fetch.js';
import { encodeBody, formUrlencoded, uriModule } from '../../src/modules/uri.js';
import { checkArgs } from '../../src/runner/invoke-module.js';
import { parsedArgs } from '../support/module-args.js';

const request = (over: Partial<FetchRequest> = {}): FetchRequest => ({
  url: 'http://h/x',
  method: 'GET',
  headers: {},
  timeout: 10,
  validateCerts: true,
  followRedirects: 'safe',
  forceBasicAuth: false,
  decompress: false,
  ...over,
});

describe('the curl config a request becomes', () => {
  it('quotes values as curl reads them back', () => {
    expect(curlConfigValue('a "b" \\ c\n\td')).toBe('"a \\"b\\" \\\\ c\\n\\td"');
    expect(() => curlConfigValue('a\0b')).toThrow(/NUL/);
  });

  it('follows redirects under safe for GET and HEAD only, always under all/urllib2/yes, never under none/no', () => {
    const follows = (method: string, followRedirects: FetchRequest['followRedirects']): boolean => curlConfig(request({ method, followRedirects })).split('\n').includes('location');
    expect([follows('GET', 'safe'), follows('HEAD', 'safe'), follows('POST', 'safe'), follows('PUT', 'safe')]).toEqual([true, true, false, false]);
    expect([follows('POST', 'all'), follows('POST', 'urllib2'), follows('POST', 'yes')]).toEqual([true, true, true]);
    expect([follows('GET', 'none'), follows('GET', 'no')]).toEqual([false, false]);
  });

  it('names the method only where curl would not pick it, and keeps secrets off the command line', () => {
    expect(curlConfig(request({ followRedirects: 'none' }))).toBe('url = "http://h/x"\nconnect-timeout = 10\nspeed-time = 10\nspeed-limit = 1\n');
    expect(curlConfig(request({ method: 'POST', body: 'x' }))).not.toContain('request =');
    expect(curlConfig(request({ method: 'POST' }))).toContain('request = "POST"');
    expect(curlConfig(request({ method: 'HEAD' }))).toContain('\nhead\n');
    const auth = curlConfig(request({ username: 'u', password: 'p"w', validateCerts: false, caPath: '/ca.pem', headers: { 'X-A': '1' } }));
    expect(auth).toContain('user = "u:p\\"w"\nanyauth');
    expect(auth).toContain('insecure\ncacert = "/ca.pem"');
    expect(auth).toContain('header = "X-A: 1"');
    expect(curlConfig(request({ username: 'u', forceBasicAuth: true }))).toContain('user = "u:"\nbasic');
  });

  it('sends http_agent as the User-Agent unless a header names one', () => {
    const args = parsedArgs(getUrlModule, { url: 'http://h/x', dest: '/tmp/x' });
    expect(urlRequest(args).headers).toEqual({ 'User-Agent': 'ansible-httpget' });
    expect(urlRequest({ ...args, headers: { 'user-agent': 'mine' } }).headers).toEqual({ 'user-agent': 'mine' });
  });
});

describe("get_url's checksums and file names, as Ansible reads them", () => {
  it('splits ALGORITHM:VALUE and tells a URL from a digest', () => {
    expect(parseChecksumArg('sha256:ABCD')).toEqual({ algorithm: 'sha256', value: 'ABCD', isUrl: false });
    expect(parseChecksumArg('sha1:https://h/SHA1SUMS')).toEqual({ algorithm: 'sha1', value: 'https://h/SHA1SUMS', isUrl: true });
    expect(() => parseChecksumArg('abcd')).toThrow('The checksum parameter has to be in format <algorithm>:<checksum>');
    expect(() => parseChecksumArg('crc32:abcd')).toThrow(/unsupported checksum algorithm 'crc32'/);
  });

  it('normalizes a digest (zero-width space, case) and refuses what is not hex', () => {
    expect(normalizeChecksum('AB\u200bcd ')).toBe('abcd');
    expect(() => normalizeChecksum('xyz')).toThrow('The checksum format is invalid');
  });

  it('finds the line of the file in a checksum file', () => {
    const sums = 'aaa  other.tar.gz\nbbb *./pkg.tar.gz\nccc  pkg.tar.gz\n';
    expect(checksumFromFile(sums, 'pkg.tar.gz')).toBe('bbb');
    expect(checksumFromFile('ddd\n', 'pkg.tar.gz')).toBe('ddd');
    expect(checksumFromFile(sums, 'missing')).toBeUndefined();
  });

  it("takes the file name from Content-Disposition, else from the URL's path", () => {
    expect(urlFilename('http://h:8/a/b.tar.gz?x=1#f')).toBe('b.tar.gz');
    expect(urlFilename('http://h/')).toBe('index.html');
    expect(urlFilename('http://h')).toBe('index.html');
    expect(dispositionFilename({ 'content-disposition': 'attachment; filename="../../etc/x.txt"' })).toBe('x.txt');
    expect(dispositionFilename({ 'content-disposition': 'inline' })).toBeUndefined();
  });

  it('refuses a relative dest when the playbook loads', () => {
    expect(checkArgs(getUrlModule, { url: 'http://h/x', dest: 'x.txt' })).toBe("get_url: dest 'x.txt' must be an absolute path");
  });
});

describe("uri's bodies", () => {
  it('form-urlencodes as Python does: quote_plus, repeated keys for lists, True/False, null left out', () => {
    expect(formUrlencoded({ name: 'a b&c~*', list: [1, 2], flag: true, none: null })).toBe('name=a+b%26c~%2A&list=1&list=2&flag=True');
    expect(formUrlencoded([['k', 'v'], ['k', 'w']])).toBe('k=v&k=w');
  });

  it('sets Content-Type for json and form bodies unless a header names one', () => {
    expect(encodeBody({ a: [1, 'x'] }, 'json', {})).toEqual({ body: '{"a": [1, "x"]}', headers: { 'Content-Type': 'application/json' } });
    expect(encodeBody({ a: 1 }, 'form-urlencoded', { 'content-type': 'text/x' })).toEqual({ body: 'a=1', headers: { 'content-type': 'text/x' } });
    expect(encodeBody('raw', 'raw', {})).toEqual({ body: 'raw', headers: {} });
    expect(() => encodeBody(5, 'form-urlencoded', {})).toThrow(/cannot form-urlencode body/);
  });

  it('refuses a method that is not one word', () => {
    expect(checkArgs(uriModule, { url: 'http://h/', method: 'GET /x' })).toMatch(/^uri: .*method.*one word, like GET or POST/);
  });
});
