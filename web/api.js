// serve's API (Companion's S3 multipart routes plus s3up's extensions),
// called with the bearer token, and the error type every failure becomes.

export const enc = encodeURIComponent;

// Who the page is: the token (kept in sessionStorage by app.js) and
// {id, prefix} from GET /s3/whoami once serve has accepted it.
export const session = { token: null, me: null };

// What to do when serve refuses the token (401); app.js sets it.
let refused = () => {};
export function onRefused(handler) {
  refused = handler;
}

// An error that says whether trying again could help.
export class UploadError extends Error {
  constructor(message, { status = 0, code = '', retryable = false, expired = false } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryable = retryable;
    this.expired = expired;
  }
}

export const retryableStatus = (s) => s === 0 || s === 408 || s === 429 || s >= 500;

export async function api(method, path, body) {
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
    throw new UploadError(`cannot reach the server (${e.message})`, { retryable: true });
  }
  const text = await res.text().catch(() => '');
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
