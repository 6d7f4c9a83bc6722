// serve's API (Companion's S3 multipart routes plus s3up's extensions),
// called with the bearer token; the error type every failure becomes; and
// the connection: what every request does when it gets no answer at all.

export const enc = encodeURIComponent;

// Who the page is: the token (kept in sessionStorage by app.js) and
// {id, prefix} from GET /s3/whoami once serve has accepted it.
export const session = { token: null, me: null };

// What to do when serve refuses the token (401); app.js sets it.
let refused = () => {};
export function onRefused(handler) {
  refused = handler;
}

// An error that says whether trying again could help. `noAnswer`: the
// request got no answer at all (fetch rejected, the XHR's onerror), from
// `origin` ('' for serve, else the store's origin).
export class UploadError extends Error {
  constructor(message, {
    status = 0, code = '', retryable = false, expired = false, noAnswer = false, origin = '',
  } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryable = retryable;
    this.expired = expired;
    this.noAnswer = noAnswer;
    this.origin = origin;
  }
}

export const retryableStatus = (s) => s === 0 || s === 408 || s === 429 || s >= 500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const ATTEMPTS = 6; // tries of a call whose failure may pass, before it fails

// The wait before attempt `attempt + 1`: doubling from 0.5 s up to 15 s, with
// jitter so that many files (or many pages) do not retry in step.
export function backoff(attempt) {
  return Math.min(15000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random());
}

// `call`, made again with backoff while it fails in a way that may pass
// (e.retryable: a 5xx, 429 or 408 answer, a reset), up to ATTEMPTS tries.
// Before each wait, `retrying(e, next, delay)` says so and may stop the
// tries by returning false. A lost connection spends no attempt: `call`
// waits for it (see reach).
export async function retried(call, retrying) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (e) {
      if (!e.retryable || attempt >= ATTEMPTS) throw e;
      const delay = backoff(attempt);
      if (retrying(e, attempt + 1, delay) === false) throw e;
      await sleep(delay);
    }
  }
}

// ---------- the connection
//
// Every request the page makes (each call to serve here, each part PUT in
// upload.js) goes through `reach`. A request that gets no answer at all may
// have met a dead connection rather than a refusal, so the page asks whether
// whoever it tried still answers: serve's /healthz, or the store's origin
// for a part. While nothing answers (or the browser says it is offline) the
// connection is down: the request waits, spending none of its attempts, and
// is made again once a probe, or any other request to that origin, gets an
// answer. The probes run after each `online` event and on a capped backoff
// besides, because browsers fire `online` late or not at all. When the probe
// answers at once, the failure was the request's own (a CORS refusal, a
// reset) and the caller spends an attempt on it, as on an error answer. There
// is no time limit: the page waits for as long as it stays open, and says so
// (`outages`, drawn by view.js); Pause and Cancel end a file's waiting.

const PROBE_FIRST_MS = 1000; // the first probe after a request got no answer
const PROBE_MAX_MS = 10000; // the longest gap between probes
const PROBE_TIMEOUT_MS = 5000; // a probe with no answer by then is no answer

// The origins that do not answer: origin -> {origin, since, next, over}:
// since when (ms), when the next probe goes, and a promise kept when it
// answers again.
export const outages = new Map();

let linkChanged = () => {};
// `handler()` runs whenever an outage begins or ends, or its next probe is
// scheduled.
export function onLink(handler) {
  linkChanged = handler;
}

const wakers = new Set();
window.addEventListener('online', () => { for (const w of wakers) w(); });

// Sleeps `ms`, or less if the browser says it is back online.
function sleepOrOnline(ms) {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      wakers.delete(wake);
      resolve(true);
    };
    const timer = setTimeout(() => { wakers.delete(wake); resolve(false); }, ms);
    wakers.add(wake);
  });
}

// Whether `origin` answers at all, whatever the answer.
async function probe(origin) {
  const opts = { cache: 'no-store', credentials: 'omit' };
  if (typeof AbortSignal.timeout === 'function') opts.signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  // The store's CORS rules need not cover a GET of its root: `no-cors`
  // gives an opaque answer, which is an answer all the same.
  if (origin) opts.mode = 'no-cors';
  try {
    await fetch(origin ? `${origin}/` : 'healthz', opts);
  } catch (_) {
    return false;
  }
  answered(origin);
  return true;
}

// `origin` answered something: the outage there, if any, is over.
export function answered(origin) {
  const o = outages.get(origin);
  if (!o) return;
  outages.delete(origin);
  o.end();
  linkChanged();
}

function outage(origin) {
  let o = outages.get(origin);
  if (o) return o;
  o = { origin, since: Date.now(), next: 0 };
  o.over = new Promise((resolve) => { o.end = resolve; });
  outages.set(origin, o);
  watch(o);
  return o;
}

async function watch(o) {
  let delay = PROBE_FIRST_MS;
  while (outages.get(o.origin) === o) {
    o.next = Date.now() + delay;
    linkChanged();
    const woken = await sleepOrOnline(delay);
    if (outages.get(o.origin) !== o || await probe(o.origin)) return;
    delay = woken ? PROBE_FIRST_MS : Math.min(PROBE_MAX_MS, delay * 2);
  }
}

// `call()` (one request), made again for as long as it gets no answer
// because the connection is down. It returns what `call` returns, or throws
// its error when that is an answer, when the connection was fine (the probe
// answered), or when `stopped()` (checked while waiting) says to give up.
// `waiting(true)` runs when it starts to wait for the connection,
// `waiting(false)` when that wait ends.
export async function reach(call, { stopped = () => false, waiting = () => {} } = {}) {
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!e.noAnswer || stopped()) throw e;
      if (navigator.onLine !== false && !outages.has(e.origin) && await probe(e.origin)) throw e;
      const o = outage(e.origin);
      waiting(true);
      try {
        while (!await Promise.race([o.over.then(() => true), sleep(500).then(() => false)])) {
          if (stopped()) throw e;
        }
      } finally {
        waiting(false);
      }
    }
  }
}

// ---------- serve's API

// One call to serve, through `reach` (`how`: its options).
export function api(method, path, body, how) {
  return reach(() => request(method, path, body), how);
}

async function request(method, path, body) {
  const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new UploadError(`cannot reach the server (${e.message})`, { retryable: true, noAnswer: true });
  }
  answered('');
  let text;
  try {
    text = await res.text();
  } catch (e) {
    // The answer broke off: whether the call took effect is unknown, as
    // when there was none.
    throw new UploadError(`the server's answer broke off (${e.message})`, { retryable: true, noAnswer: true });
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!res.ok) {
    const message = data && typeof data.error === 'string' ? data.error : `the server answered HTTP ${res.status}`;
    const err = new UploadError(message, {
      status: res.status,
      code: (data && data.code) || '',
      retryable: retryableStatus(res.status),
    });
    if (res.status === 401 && session.token) refused(err);
    throw err;
  }
  return data;
}
