// Races simultaneous redemptions of one refresh token against a server prepared by bench/prepare.mjs: with rotating
// refresh tokens and no reuse leeway, exactly one of them may get tokens; every other one must be refused. Each line of
// DIR/refresh-race.txt is a fresh refresh token (its own code flow); each round uses one, so rounds are independent.
//
// Usage: node race.mjs BASE_URL DIR [CONCURRENCY]    (default 10)
// Environment: CLIENT_ID CLIENT_SECRET. Prints one JSON line: {"rounds":R,"concurrency":N,"winners":[w...],
// "chains":[c...]}, where w is how many of the N requests of a round got a 200 with tokens, and c how many of those
// winners' new refresh tokens still worked afterwards (each presented once, in turn). Anything but 1 and 1 in every
// round is a failure of rotation (the exit status is still 0: run.sh records the result, it does not judge it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';

const [base, dir, concurrencyArg = '10'] = process.argv.slice(2);
if (!base || !dir) {
  console.error('usage: node race.mjs BASE_URL DIR [CONCURRENCY]');
  process.exit(2);
}
const concurrency = Number(concurrencyArg);
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const auth = 'Basic ' + Buffer.from(`${encodeURIComponent(env('CLIENT_ID'))}:${encodeURIComponent(env('CLIENT_SECRET'))}`).toString('base64');
const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
const tokenUrl = new URL(discovery.token_endpoint);
const tokens = readFileSync(join(dir, 'refresh-race.txt'), 'utf8').split('\n').filter(Boolean);

/**
 * One POST on its own connection, opened beforehand: every request of a round is written at the same moment, so the
 * server receives them together rather than as fast as connections happen to open.
 */
function post(agent, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(tokenUrl, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const winners = [];
const chains = [];
for (const token of tokens) {
  // One keep-alive connection per request, warmed by a discovery GET, so the round is only the redemptions.
  const agents = Array.from({ length: concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  await Promise.all(agents.map((agent) => new Promise((resolve, reject) => {
    httpRequest(new URL(`${base}/.well-known/openid-configuration`), { agent }, (res) => { res.resume(); res.on('end', resolve); })
      .on('error', reject).end();
  })));
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString();
  const answers = await Promise.all(agents.map((agent) => post(agent, body)));
  const won = answers.filter((a) => a.status === 200 && a.text.includes('"access_token"'));
  winners.push(won.length);
  for (const agent of agents) agent.destroy();
  // Whether the winners' chains live on: each winner's new refresh token is presented once, one after the other. More
  // than one success means the family forked into chains that each keep working.
  let alive = 0;
  for (const answer of won) {
    const successor = JSON.parse(answer.text).refresh_token;
    if (!successor) continue;
    const next = await post(undefined, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: successor }).toString());
    if (next.status === 200 && next.text.includes('"access_token"')) alive++;
  }
  chains.push(alive);
}
console.log(JSON.stringify({ rounds: tokens.length, concurrency, winners, chains }));
