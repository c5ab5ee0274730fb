// masto.js against a real `roost serve`: log in with the password grant, follow a tag, make a
// list, filter, vote in a poll, and hold four streams on one WebSocket while another account posts.
// Usage: node client.mjs BASE_URL USERNAME PASSWORD OTHER_TOKEN OTHER_USERNAME
// Prints one JSON object of what it saw; exits non-zero on any error (masto throws on every
// error answer and on any WebSocket frame carrying `error`).
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

const [base, username, password, otherToken, otherName] = process.argv.slice(2);
const seen = {};
const withTimeout = (promise, ms, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  ]);

const anonymous = createRestAPIClient({ url: base });
const app = await anonymous.v1.apps.create({
  clientName: "masto-test",
  redirectUris: "urn:ietf:wg:oauth:2.0:oob",
  scopes: "read write follow push",
});
const oauth = createOAuthAPIClient({ url: base });
const token = await oauth.token.create({
  grantType: "password",
  clientId: app.clientId,
  clientSecret: app.clientSecret,
  username: `${username}@example.com`,
  password,
  scope: "read write follow push",
});
const me = createRestAPIClient({ url: base, accessToken: token.accessToken });
const other = createRestAPIClient({ url: base, accessToken: otherToken });
seen.me = (await me.v1.accounts.verifyCredentials()).username;

// Elk's Local, Federated and hashtag screens await these without a catch.
seen.followed = (await me.v1.tags.$select("Birds").follow()).following;
seen.followedTags = (await me.v1.followedTags.list()).map((t) => t.name);
seen.trends = (await me.v1.trends.statuses.list()).length;
const instance = await me.v2.instance.fetch();
seen.apiVersions = instance.apiVersions;

const author = await me.v1.accounts.lookup({ acct: otherName });
await me.v1.accounts.$select(author.id).follow();
const list = await me.v1.lists.create({ title: "Friends", repliesPolicy: "list" });
await me.v1.lists.$select(list.id).accounts.create({ accountIds: [author.id] });
seen.listMembers = (await me.v1.lists.$select(list.id).accounts.list()).map((a) => a.username);
const filter = await me.v2.filters.create({
  title: "Herons",
  context: ["home"],
  filterAction: "warn",
  keywordsAttributes: [{ keyword: "heron", wholeWord: true }],
});
seen.filterKeywords = filter.keywords.map((k) => k.keyword);

const poll = await other.v1.statuses.create({
  status: "Which heron?",
  poll: { options: ["grey", "purple"], expiresIn: 3600 },
});
const voted = await me.v1.polls.$select(poll.poll.id).votes.create({ choices: [1] });
seen.poll = { voted: voted.voted, ownVotes: voted.ownVotes, counts: voted.options.map((o) => o.votesCount) };

const streaming = createStreamingAPIClient({
  streamingApiUrl: instance.configuration.urls.streaming,
  accessToken: token.accessToken,
  log: process.env.MASTO_LOG || "warn",
});
const streams = {
  user: streaming.user.subscribe(),
  hashtag: streaming.hashtag.subscribe({ tag: "birds" }),
  list: streaming.list.subscribe({ list: list.id }),
  direct: streaming.direct.subscribe(),
};
const first = async (name, subscription, event) => {
  for await (const got of subscription) {
    if (process.env.MASTO_LOG) console.error("event", name, got.event);
    if (got.event === event) return got;
  }
  throw new Error(`${name} ended`);
};
// Iterating opens the socket and sends the four subscriptions. Mastodon's protocol has no
// acknowledgement, so the other account posts again (at most five times, a second apart) until
// every stream has had its event.
const waits = Promise.all([
  first("user", streams.user, "update"),
  first("hashtag", streams.hashtag, "update"),
  first("list", streams.list, "update"),
  first("direct", streams.direct, "conversation"),
]);
const posted = new Set();
const directs = new Set();
let arrived = null;
for (let round = 0; round < 5 && arrived === null; round++) {
  posted.add((await other.v1.statuses.create({ status: `a heron #birds ${round}` })).id);
  const note = { status: `@${username} psst ${round}`, visibility: "direct" };
  directs.add((await other.v1.statuses.create(note)).id);
  arrived = await withTimeout(waits, 1000, "streams").catch(() => null);
}
if (arrived === null) throw new Error("not every stream had its event after five posts");
const [user, hashtag, inList, conversation] = arrived;
seen.streamed = {
  user: posted.has(user.payload.id),
  hashtag: posted.has(hashtag.payload.id),
  list: posted.has(inList.payload.id),
  direct: directs.has(conversation.payload.lastStatus.id),
};
const home = await me.v1.timelines.home.list();
const heron = home.find((s) => posted.has(s.id));
seen.homeFiltered = heron.filtered.map((f) => f.filter.title);
streaming.close();
console.log(JSON.stringify(seen));
