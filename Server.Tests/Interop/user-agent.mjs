// The browser's part of a code flow for the Node.js interop scripts, with fetch and a cookie jar: it follows the
// server's redirects, signs in on the login form with USERNAME and PASSWORD from the environment, and stops at the first
// redirect that leaves the server (the client's callback).
import assert from 'node:assert/strict';

const entities = { amp: '&', quot: '"', lt: '<', gt: '>', apos: "'" };
export const decodeHtml = (text) => text.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(\w+));/gi,
  (whole, hex, dec, name) => hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(Number(dec)) : entities[name] ?? whole);

export function createUserAgent(issuer, username, password) {
  const cookies = new Map();
  async function browse(url, init = {}) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name); else cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects from url until one leaves the server, signing in on the way; returns that URL. */
  return async function userAgent(url) {
    for (let hop = 0; hop < 10; hop++) {
      let response = await browse(url);
      if (response.status === 200 && new URL(url).pathname === '/account/login') {
        const html = await response.text();
        const field = (name) => html.match(new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`))?.[1] ?? '';
        response = await browse(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            Username: username, Password: password,
            ReturnUrl: decodeHtml(field('ReturnUrl')),
            __RequestVerificationToken: field('__RequestVerificationToken'),
          }),
        });
      }
      assert.ok([302, 303].includes(response.status), `${url}: HTTP ${response.status}`);
      const next = new URL(response.headers.get('location'), url);
      if (next.origin !== issuer.origin) return next;
      url = next.href;
    }
    assert.fail('too many redirects');
  };
}
