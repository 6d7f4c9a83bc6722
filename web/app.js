// s3up's browser uploader, served by `s3up serve` at `/` (issue 12).
//
// Plain JavaScript with no framework and no build step: the file the browser
// runs is this file (README, "The browser page", says why). It speaks serve's
// API (Companion's S3 multipart routes plus s3up's extensions) with a bearer
// token, and PUTs each part straight to S3 over a URL presigned with that
// part's SHA-256, so S3 itself refuses a part whose bytes changed on the way.
//
// What the browser keeps:
// - the token, in sessionStorage only (this tab; gone when it closes);
// - for each unfinished upload, in localStorage under STORE_KEY: the file's
//   name, size and lastModified, the key, the UploadId, the part size and each
//   finished part's ETag and SHA-256. Picking the same file again after a
//   reload asks serve which parts S3 holds, checks each one's SHA-256 against
//   the file, and sends only the rest. A file whose bytes differ is never
//   mixed with the old parts: the old upload is aborted and it starts afresh.
'use strict';

(() => {
  const MiB = 1024 * 1024;
  const MIN_PART = 5 * MiB; // S3's smallest part (but the last)
  const MAX_PART = 5 * 1024 * MiB; // S3's largest part
  const MAX_PARTS = 10000; // S3's part numbers run from 1 to this
  const ATTEMPTS = 6; // tries per part (and per Complete) before the file fails
  const RESIGNS = 3; // fresh URLs for an expired one, which costs no attempt
  const STORE_KEY = 's3up.uploads.v1';
  const TOKEN_KEY = 's3up.token';
  const RATE_WINDOW_MS = 8000;

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  let token = null;
  let me = null; // {id, prefix} from GET /s3/whoami
  const jobs = [];
  let active = 0; // parts in flight, across files

  // ---------- small helpers

  function fmtBytes(n) {
    if (n < 1024) return `${n} B`;
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
    return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
  }

  function fmtDuration(s) {
    if (!Number.isFinite(s)) return '…';
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function randomHex(n) {
    const b = new Uint8Array(n / 2);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function sha256b64(buf) {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    let s = '';
    for (const x of d) s += String.fromCharCode(x);
    return btoa(s);
  }

  // S3's checksum of a multipart object: the SHA-256 of the parts' SHA-256s,
  // then "-" and the number of parts.
  async function compositeSha256(parts) {
    const raw = parts.map((p) => Uint8Array.from(atob(p.ChecksumSHA256), (c) => c.charCodeAt(0)));
    const all = new Uint8Array(raw.length * 32);
    raw.forEach((r, i) => all.set(r, i * 32));
    return `${await sha256b64(all)}-${parts.length}`;
  }

  function showNotice(text, isError) {
    const n = $('notice');
    n.textContent = text;
    n.className = isError ? 'error' : '';
    n.hidden = !text;
  }

  // An error that says whether trying again could help.
  class UploadError extends Error {
    constructor(message, { status = 0, code = '', retryable = false, expired = false } = {}) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryable = retryable;
      this.expired = expired;
    }
  }

  const retryableStatus = (s) => s === 0 || s === 408 || s === 429 || s >= 500;

  // ---------- serve's API

  async function api(method, path, body) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
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
      if (res.status === 401 && token) tokenRefused(err);
      throw err;
    }
    return data;
  }

  // ---------- the token

  function takeFragmentToken() {
    const hash = location.hash.slice(1);
    if (!hash) return;
    const params = new URLSearchParams(hash);
    if (!params.has('token')) return;
    sessionStorage.setItem(TOKEN_KEY, params.get('token'));
    params.delete('token');
    const rest = params.toString();
    // Out of the address bar and the history, so it is not copied or shared.
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }

  // An empty token asks whether the server needs one at all (`--no-auth`):
  // when it does, the token form shows, with no complaint.
  async function useToken(t) {
    token = t;
    if (t) showNotice('Checking the token…');
    try {
      me = await api('GET', 's3/whoami');
    } catch (e) {
      if (!t && e.status === 401) {
        $('tokenform').hidden = false;
        $('token').focus();
      } else if (e.status !== 401) {
        showNotice(`Cannot check the token: ${e.message}`, true);
        $('tokenform').hidden = false;
      }
      return;
    }
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    showNotice('');
    $('who').textContent = `Signed in as ${me.id}; files go under ${me.prefix || 'any key'}`;
    $('tokenform').hidden = true;
    $('uploader').hidden = false;
    $('forget').hidden = !t;
    for (const job of jobs) if (job.state === 'paused' && job.pausedByAuth) resume(job);
    renderPending();
  }

  function tokenRefused(err) {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    showNotice(`The server refused the token: ${err.message} Enter a valid upload token to continue.`, true);
    $('who').textContent = '';
    $('tokenform').hidden = false;
    $('forget').hidden = true;
    $('token').value = '';
    for (const job of jobs) {
      if (job.state === 'uploading' || job.state === 'checking') {
        pause(job);
        job.pausedByAuth = true;
        job.msg = 'Paused: the token was refused. It goes on once a valid token is entered.';
      }
    }
    renderAll();
  }

  // ---------- what the browser remembers (localStorage)

  function loadRecords() {
    try {
      const all = JSON.parse(localStorage.getItem(STORE_KEY) || '{}');
      return all && typeof all === 'object' ? all : {};
    } catch (_) {
      return {};
    }
  }

  function saveRecords(all) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(all));
    } catch (e) {
      showNotice(`Cannot save the upload's progress in this browser (${e.message}): a reload will start it afresh.`, true);
    }
  }

  function saveJob(job) {
    const all = loadRecords();
    const parts = {};
    job.parts.forEach((p, i) => {
      if (i > 0 && p.done) parts[i] = { etag: p.etag, sha256: p.sha256 };
    });
    all[job.uploadId] = {
      name: job.file.name,
      size: job.file.size,
      lastModified: job.file.lastModified,
      type: job.file.type,
      key: job.key,
      uploadId: job.uploadId,
      partSize: job.partSize,
      parts,
      started: job.started,
    };
    saveRecords(all);
  }

  // A finished part is written down within SAVE_DELAY_MS, not at once: the
  // record of a 10,000-part upload is about a megabyte, and writing it after
  // every part would cost quadratic time. A part that is lost this way is
  // still found on resume: S3 lists it, and its SHA-256 is checked there.
  const SAVE_DELAY_MS = 1000;
  function scheduleSave(job) {
    if (job.saveTimer) return;
    job.saveTimer = setTimeout(() => {
      job.saveTimer = null;
      if (job.uploadId && !['done', 'cancelled', 'cancelling'].includes(job.state)) saveJob(job);
    }, SAVE_DELAY_MS);
  }

  function dropRecord(uploadId) {
    const all = loadRecords();
    delete all[uploadId];
    saveRecords(all);
  }

  async function abortOnS3(rec) {
    try {
      await api('DELETE', `s3/multipart/${enc(rec.uploadId)}?key=${enc(rec.key)}`);
    } catch (e) {
      if (e.status !== 404) throw e; // 404: already gone
    }
  }

  // ---------- planning

  function choosePartSize(size) {
    const wanted = Math.min(MAX_PART, Math.max(MIN_PART, Math.round(Number($('partsize').value) || 8) * MiB));
    const needed = Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB; // fit in 10,000 parts
    return Math.max(wanted, needed);
  }

  function plan(job, partSize) {
    job.partSize = partSize;
    job.count = Math.max(1, Math.ceil(job.file.size / partSize));
    job.parts = [null];
    for (let n = 1; n <= job.count; n += 1) {
      const start = (n - 1) * partSize;
      const end = Math.min(job.file.size, start + partSize);
      // interrupted: a PUT of this part was stopped or failed mid-way, so its
      // body may still reach the store later (see complete).
      job.parts.push({ start, end, done: false, etag: '', sha256: '', loaded: 0, xhr: null, interrupted: false });
    }
  }

  function proposedKey(name) {
    const clean = Array.from(name).filter((c) => c >= ' ' && c !== '\x7f').join('').replace(/[/\\]/g, '_');
    return `${me ? me.prefix : ''}${randomHex(16)}-${clean || 'file'}`;
  }

  // ---------- the upload of one file

  function newJob(file) {
    const job = {
      id: randomHex(8),
      file,
      key: '',
      uploadId: '',
      state: 'starting',
      msg: '',
      parts: [null],
      count: 0,
      partSize: 0,
      running: new Set(),
      queue: [],
      started: Date.now(),
      samples: [],
      resumedParts: 0,
      resends: 0,
      note: '',
      saveTimer: null,
      pausedByAuth: false,
      el: null,
    };
    return job;
  }

  function bytesSent(job) {
    let sum = 0;
    for (let n = 1; n <= job.count; n += 1) {
      const p = job.parts[n];
      sum += p.done ? p.end - p.start : Math.min(p.loaded, p.end - p.start);
    }
    return sum;
  }

  function partsDone(job) {
    let k = 0;
    for (let n = 1; n <= job.count; n += 1) if (job.parts[n].done) k += 1;
    return k;
  }

  function setState(job, state, msg) {
    job.state = state;
    if (msg !== undefined) job.msg = msg;
    renderJob(job);
    renderBatch();
  }

  async function startJob(job) {
    const f = job.file;
    // Uploads this tab is running are not interrupted ones, whatever their name.
    const live = new Set(jobs.filter((j) => j !== job && j.uploadId
      && !['done', 'cancelled'].includes(j.state)).map((j) => j.uploadId));
    const records = Object.values(loadRecords())
      .filter((r) => r && r.name === f.name && !live.has(r.uploadId));
    const same = records.find((r) => r.size === f.size && r.lastModified === f.lastModified);
    let note = '';
    for (const r of records) {
      if (r === same) continue;
      // Same name, other size or date: another file. Its old parts are never reused.
      note = `"${f.name}" is not the file whose upload was interrupted (its size or last-modified date differ): its old parts are discarded and it starts afresh.`;
      await abortOnS3(r).catch(() => {});
      dropRecord(r.uploadId);
    }
    if (same) {
      const resumed = await resumeFrom(job, same);
      if (resumed) return;
      note = job.msg;
    }
    await create(job, note);
  }

  async function create(job, note) {
    plan(job, choosePartSize(job.file.size));
    job.note = note || '';
    if (!job.key) job.key = proposedKey(job.file.name);
    setState(job, 'starting', note || 'Creating the upload…');
    const r = await withRetries(job, 'Creating the upload', () => api('POST', 's3/multipart', {
      filename: job.file.name,
      type: job.file.type || 'application/octet-stream',
      key: job.key,
      checksumAlgorithm: 'SHA256',
      metadata: {},
    }));
    job.key = r.key;
    job.uploadId = r.uploadId;
    saveJob(job); // the UploadId is kept before the first part goes
    if (job.state === 'cancelling' || job.state === 'cancelled') {
      await cancel(job);
      return;
    }
    job.queue = [];
    for (let n = 1; n <= job.count; n += 1) job.queue.push(n);
    setState(job, job.state === 'paused' ? 'paused' : 'uploading', note || '');
    pump();
  }

  // Carries on an interrupted upload of this very file, or says why not
  // (job.msg) and returns false.
  async function resumeFrom(job, rec) {
    job.key = rec.key;
    job.uploadId = rec.uploadId;
    plan(job, rec.partSize);
    setState(job, 'checking', 'Resuming: asking the server which parts S3 holds…');
    let listed;
    try {
      listed = await withRetries(job, 'Asking for the parts on S3',
        () => api('GET', `s3/multipart/${enc(rec.uploadId)}?key=${enc(rec.key)}`));
    } catch (e) {
      if (e.status !== 404) throw e;
      dropRecord(rec.uploadId);
      job.key = '';
      job.uploadId = '';
      job.msg = 'The interrupted upload is no longer on S3 (completed, cancelled or expired): starting afresh.';
      return false;
    }
    let changed = false;
    let kept = 0;
    for (const p of Array.isArray(listed) ? listed : []) {
      const n = p.PartNumber;
      if (!(n >= 1 && n <= job.count)) continue;
      const part = job.parts[n];
      if (p.Size !== part.end - part.start) { changed = true; break; }
      job.msg = `Resuming: checking the SHA-256 of part ${n} of ${job.count} against the file…`;
      renderJob(job);
      let sha;
      try {
        sha = await sha256b64(await job.file.slice(part.start, part.end).arrayBuffer());
      } catch (e) {
        throw new UploadError(`cannot read "${job.file.name}" (${e.message}): pick it again`);
      }
      const want = p.ChecksumSHA256 || (rec.parts && rec.parts[n] && rec.parts[n].sha256) || '';
      if (!want) continue; // nothing to check it by: send it again
      if (want !== sha) { changed = true; break; }
      Object.assign(part, { done: true, etag: p.ETag, sha256: sha });
      kept += 1;
    }
    if (changed) {
      await abortOnS3(rec).catch(() => {});
      dropRecord(rec.uploadId);
      job.key = '';
      job.uploadId = '';
      job.msg = `"${job.file.name}" has changed since its upload was interrupted (the parts on S3 hold other bytes): the old parts are discarded and it starts afresh.`;
      return false;
    }
    if (['cancelling', 'cancelled'].includes(job.state)) return true; // Cancel pressed meanwhile
    job.resumedParts = kept;
    saveJob(job);
    job.queue = [];
    for (let n = 1; n <= job.count; n += 1) if (!job.parts[n].done) job.queue.push(n);
    setState(job, job.state === 'paused' ? 'paused' : 'uploading',
      `Resumed: ${kept} of ${job.count} parts were already on S3; sending the other ${job.count - kept}.`);
    pump();
    maybeComplete(job);
    return true;
  }

  function concurrency() {
    return Math.min(16, Math.max(1, Math.round(Number($('concurrency').value) || 4)));
  }

  // Starts parts, across files in the order they were added, up to the limit.
  function pump() {
    const limit = concurrency();
    while (active < limit) {
      const job = jobs.find((j) => j.state === 'uploading' && j.queue.length > 0);
      if (!job) break;
      const n = job.queue.shift();
      if (job.parts[n].done || job.running.has(n)) continue;
      active += 1;
      job.running.add(n);
      runPart(job, n)
        .catch((e) => fail(job, e))
        .finally(() => {
          active -= 1;
          job.running.delete(n);
          maybeComplete(job);
          pump();
        });
    }
  }

  function maybeComplete(job) {
    if (job.state === 'uploading' && job.running.size === 0 && partsDone(job) === job.count) {
      complete(job).catch((e) => fail(job, e));
    }
  }

  function backoff(attempt) {
    return Math.min(15000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random());
  }

  // While the browser knows it is offline, waiting costs no attempt.
  function online() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise((resolve) => window.addEventListener('online', resolve, { once: true }));
  }

  // `call`, tried again with backoff while it fails in a way that may pass.
  async function withRetries(job, what, call) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (e) {
        if (!e.retryable || attempt >= ATTEMPTS || job.state === 'paused') throw e;
        const delay = backoff(attempt);
        job.msg = `${what} failed (${e.message}); attempt ${attempt + 1} of ${ATTEMPTS} in ${(delay / 1000).toFixed(1)} s.`;
        renderJob(job);
        await sleep(delay);
        await online();
      }
    }
  }

  async function runPart(job, n) {
    const part = job.parts[n];
    let attempt = 0;
    let resigned = 0;
    for (;;) {
      if (job.state !== 'uploading') { requeue(job, n); return; }
      try {
        let body;
        try {
          body = await job.file.slice(part.start, part.end).arrayBuffer();
        } catch (e) {
          throw new UploadError(`cannot read "${job.file.name}" (${e.message}): it changed or was removed since it was picked. Pick it again.`);
        }
        // The sum is of the bytes about to be sent: S3 refuses them if they
        // differ from it on arrival.
        part.sha256 = await sha256b64(body);
        const sig = await api('GET', `s3/multipart/${enc(job.uploadId)}/${n}?key=${enc(job.key)}&sha256=${enc(part.sha256)}`);
        if (job.state !== 'uploading') { requeue(job, n); return; }
        part.etag = await putPart(job, part, sig, body);
        part.done = true;
        part.xhr = null;
        scheduleSave(job);
        renderJob(job);
        renderBatch();
        return;
      } catch (e) {
        if (part.xhr) part.interrupted = true;
        part.xhr = null;
        part.loaded = 0;
        if (job.state !== 'uploading') { requeue(job, n); return; }
        if (e.expired && resigned < RESIGNS) { resigned += 1; continue; }
        if (e.retryable && navigator.onLine === false) {
          job.msg = 'Offline: the upload goes on when the connection is back.';
          renderJob(job);
          await online();
          continue;
        }
        attempt += 1;
        if (!e.retryable || attempt >= ATTEMPTS) {
          throw new UploadError(`part ${n}: ${e.message}${e.retryable ? ` (after ${ATTEMPTS} attempts)` : ''}`, e);
        }
        const delay = backoff(attempt);
        job.msg = `Part ${n} failed (${e.message}); attempt ${attempt + 1} of ${ATTEMPTS} in ${(delay / 1000).toFixed(1)} s.`;
        renderJob(job);
        await sleep(delay);
      }
    }
  }

  function requeue(job, n) {
    if (!job.parts[n].done && !job.queue.includes(n)) job.queue.unshift(n);
  }

  function s3Error(xhr) {
    const text = xhr.responseText || '';
    const pick = (tag) => {
      const m = text.match(new RegExp(`<${tag}>([^<]*)</${tag}>`));
      return m ? m[1] : '';
    };
    const code = pick('Code');
    const message = pick('Message');
    // AWS: 403 AccessDenied "Request has expired"; R2: ExpiredRequest;
    // Garage: 400 "Date is too old".
    const expired = code === 'ExpiredRequest' || /expired|too old/i.test(message);
    const retryable = retryableStatus(xhr.status)
      || ['RequestTimeout', 'SlowDown', 'InternalError', 'InvalidDigest', 'BadDigest'].includes(code);
    const what = code ? `${code}${message ? `: ${message}` : ''}` : `HTTP ${xhr.status}`;
    return new UploadError(`the store refused the part (${what})`, { status: xhr.status, code, retryable, expired });
  }

  function putPart(job, part, sig, body) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      part.xhr = xhr;
      part.loaded = 0;
      xhr.open('PUT', sig.url);
      for (const [name, value] of Object.entries(sig.headers || {})) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (ev) => { part.loaded = ev.loaded; };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          const etag = xhr.getResponseHeader('ETag');
          if (!etag) {
            reject(new UploadError("the store's answer has no readable ETag header: the bucket's CORS rules must expose ETag (see the README)"));
            return;
          }
          resolve(etag);
        } else {
          reject(s3Error(xhr));
        }
      };
      xhr.onerror = () => reject(new UploadError("network error, or the bucket's CORS rules do not let this page PUT (see the README)", { retryable: true }));
      xhr.onabort = () => reject(new UploadError('stopped', { retryable: true }));
      xhr.send(body);
    });
  }

  async function complete(job) {
    setState(job, 'completing', 'Completing the upload…');
    const parts = [];
    for (let n = 1; n <= job.count; n += 1) {
      const p = job.parts[n];
      parts.push({ PartNumber: n, ETag: p.etag, ChecksumSHA256: p.sha256 });
    }
    let done = null;
    for (let attempt = 1; ; attempt += 1) {
      try {
        done = await api('POST', `s3/multipart/${enc(job.uploadId)}/complete?key=${enc(job.key)}`, { parts });
        break;
      } catch (e) {
        // The upload is gone: completed by an earlier try whose answer was lost
        // (here or between serve and S3)? The key is this upload's own (a
        // random id), so an object there of the file's size is this upload.
        if (e.status === 404) {
          const o = await api('GET', `s3/object?key=${enc(job.key)}`);
          if (o && o.exists && o.size === job.file.size
            && (!o.checksumSHA256 || o.checksumSHA256 === await compositeSha256(parts))) {
            done = { key: job.key };
            break;
          }
        }
        if (/InvalidPart\b/.test(e.message) && resendInterrupted(job)) return;
        if (e.status === 401 || !e.retryable || attempt >= ATTEMPTS) throw e;
        await sleep(backoff(attempt));
      }
    }
    dropRecord(job.uploadId);
    const extra = job.resumedParts ? ` (${job.resumedParts} parts were kept from before)` : '';
    setState(job, 'done', `${job.note ? `${job.note} ` : ''}Uploaded to ${done.key}${extra}.`);
  }

  // A PUT the page stopped (Pause) or lost (network error) may still reach the
  // store after the page sent that part again: its body can sit in buffers
  // and proxies on the way. Garage keeps, for each part number, the attempt
  // whose body *started* arriving last, so a stale body that arrives after the
  // new attempt began replaces it, unfinished, and Complete answers
  // InvalidPart. Sending the parts that had such an attempt once more makes
  // them the latest again; then Complete is retried (when they finish).
  function resendInterrupted(job) {
    if (job.state !== 'completing' || job.resends >= ATTEMPTS) return false;
    const again = [];
    for (let n = 1; n <= job.count; n += 1) {
      const p = job.parts[n];
      if (!p.interrupted) continue;
      Object.assign(p, { done: false, interrupted: false, etag: '', loaded: 0 });
      again.push(n);
    }
    if (again.length === 0) return false;
    job.resends += 1;
    job.queue = again;
    setState(job, 'uploading', `The store did not take part ${again.join(', ')} as sent (InvalidPart): sending again.`);
    pump();
    return true;
  }

  function stopParts(job) {
    for (let n = 1; n <= job.count; n += 1) {
      const p = job.parts[n];
      if (p.xhr) p.xhr.abort();
    }
  }

  function pause(job) {
    if (!['uploading', 'checking', 'starting'].includes(job.state)) return;
    setState(job, 'paused', 'Paused. The parts already sent are kept on S3.');
    stopParts(job);
    if (job.uploadId) saveJob(job);
  }

  function resume(job) {
    if (job.state === 'failed' && !job.uploadId) { // it failed before S3 had an upload
      startJob(job).catch((e) => fail(job, e)).finally(renderPending);
      return;
    }
    if (!['paused', 'failed'].includes(job.state) || !job.uploadId) return;
    job.pausedByAuth = false;
    job.queue = [];
    for (let n = 1; n <= job.count; n += 1) {
      if (!job.parts[n].done && !job.running.has(n)) job.queue.push(n);
    }
    setState(job, 'uploading', '');
    pump();
    maybeComplete(job);
  }

  async function cancel(job) {
    if (['done', 'cancelled'].includes(job.state)) return;
    const before = job.state;
    setState(job, 'cancelling', 'Cancelling…');
    stopParts(job);
    if (!job.uploadId) {
      // Create is in flight: it cancels when it answers. Else there is nothing on S3.
      if (before !== 'starting') setState(job, 'cancelled', 'Cancelled.');
      return;
    }
    try {
      await abortOnS3(job);
    } catch (e) {
      setState(job, before === 'failed' ? 'failed' : 'paused',
        `Cancelling failed (${e.message}): the upload is still on S3. Press Cancel again.`);
      return;
    }
    dropRecord(job.uploadId);
    setState(job, 'cancelled', 'Cancelled: the upload was aborted on S3.');
    renderPending();
  }

  function fail(job, e) {
    if (['cancelling', 'cancelled', 'done', 'paused'].includes(job.state)) return;
    setState(job, 'failed', `${e.message} Press Retry to try again: the parts already sent are kept.`);
    stopParts(job);
  }

  // ---------- adding files

  function addFiles(files) {
    if (!me) {
      showNotice('Enter the upload token first.', true);
      return;
    }
    for (const file of files) {
      const busy = jobs.find((j) => j.file.name === file.name && j.file.size === file.size
        && j.file.lastModified === file.lastModified
        && !['done', 'cancelled', 'failed'].includes(j.state));
      if (busy) {
        showNotice(`"${file.name}" is already in the list.`);
        continue;
      }
      const job = newJob(file);
      const rec = Object.values(loadRecords()).find((r) => r && r.name === file.name
        && r.size === file.size && r.lastModified === file.lastModified);
      job.key = rec ? rec.key : proposedKey(file.name);
      jobs.push(job);
      renderJob(job);
      startJob(job).catch((e) => fail(job, e)).finally(renderPending);
    }
    renderBatch();
  }

  // ---------- rendering

  function sampleRate(job, now) {
    const sent = bytesSent(job);
    job.samples.push({ t: now, b: sent });
    while (job.samples.length > 2 && now - job.samples[0].t > RATE_WINDOW_MS) job.samples.shift();
    if (job.state !== 'uploading') { job.samples = [{ t: now, b: sent }]; return { sent, rate: 0 }; }
    const first = job.samples[0];
    const dt = (now - first.t) / 1000;
    return { sent, rate: dt >= 0.5 ? (sent - first.b) / dt : 0 };
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderJob(job) {
    if (!job.el) {
      const li = el('li', 'file');
      const top = el('div', 'row');
      top.append(el('span', 'name', job.file.name), el('span', 'size', fmtBytes(job.file.size)));
      const key = el('div', 'key', 'Key: ');
      key.append(el('code'));
      const stats = el('div', 'row');
      stats.append(el('span', 'stats'), el('span', 'state'));
      const buttons = el('div', 'row buttons');
      const pb = el('button', 'pause', 'Pause');
      const rb = el('button', 'resume', 'Resume');
      const cb = el('button', 'cancel', 'Cancel');
      for (const b of [pb, rb, cb]) b.type = 'button';
      pb.addEventListener('click', () => pause(job));
      rb.addEventListener('click', () => resume(job));
      cb.addEventListener('click', () => cancel(job));
      buttons.append(pb, rb, cb);
      const bar = el('progress');
      bar.max = 1;
      bar.value = 0;
      li.append(top, key, bar, stats, el('div', 'msg'), buttons);
      job.el = li;
      $('list').append(li);
    }
    const li = job.el;
    li.dataset.state = job.state;
    li.dataset.partsDone = String(partsDone(job));
    li.dataset.parts = String(job.count);
    li.dataset.key = job.key;
    li.dataset.uploadId = job.uploadId;
    li.querySelector('.key code').textContent = job.key;
    li.querySelector('.state').textContent = job.state;
    li.querySelector('.msg').textContent = job.msg;
    li.querySelector('.pause').disabled = !['uploading', 'checking', 'starting'].includes(job.state);
    const rb = li.querySelector('.resume');
    rb.textContent = job.state === 'failed' ? 'Retry' : 'Resume';
    rb.disabled = !(job.state === 'failed' || (job.state === 'paused' && job.uploadId));
    li.querySelector('.cancel').disabled = ['done', 'cancelled', 'cancelling'].includes(job.state);
  }

  function renderProgress() {
    const now = performance.now();
    let total = 0;
    let sent = 0;
    let rate = 0;
    let shown = 0;
    for (const job of jobs) {
      if (!job.el || !job.count) continue;
      const s = sampleRate(job, now);
      const size = job.file.size;
      const bar = job.el.querySelector('progress');
      bar.value = size ? s.sent / size : (job.state === 'done' ? 1 : 0);
      let text = `${fmtBytes(s.sent)} of ${fmtBytes(size)} · ${partsDone(job)} of ${job.count} parts`;
      if (job.state === 'uploading') {
        text += s.rate > 0 ? ` · ${fmtBytes(s.rate)}/s · ${fmtDuration((size - s.sent) / s.rate)} left` : ' · …';
      }
      job.el.querySelector('.stats').textContent = text;
      if (job.state === 'cancelled') continue;
      shown += 1;
      total += size;
      sent += s.sent;
      rate += s.rate;
    }
    $('batch').hidden = shown < 1;
    $('batchbar').value = total ? sent / total : 0;
    let text = `${fmtBytes(sent)} of ${fmtBytes(total)}`;
    if (rate > 0) text += ` · ${fmtBytes(rate)}/s · ${fmtDuration((total - sent) / rate)} left`;
    $('batchstats').textContent = text;
  }

  function renderBatch() {
    renderProgress();
  }

  function renderAll() {
    for (const job of jobs) if (job.el) renderJob(job);
    renderBatch();
  }

  function renderPending() {
    const list = $('pendinglist');
    list.textContent = '';
    const mine = new Set(jobs.filter((j) => !['done', 'cancelled'].includes(j.state)).map((j) => j.uploadId));
    const recs = Object.values(loadRecords()).filter((r) => r && r.uploadId && !mine.has(r.uploadId));
    for (const r of recs) {
      const li = el('li');
      const count = Math.max(1, Math.ceil(r.size / r.partSize));
      const done = Object.keys(r.parts || {}).length;
      const text = el('span', '', `${r.name} (${fmtBytes(r.size)}): ${done} of ${count} parts sent, started ${new Date(r.started).toLocaleString()}. Key `);
      text.append(el('code', '', r.key));
      const discard = el('button', 'discard', 'Discard');
      discard.type = 'button';
      discard.addEventListener('click', async () => {
        discard.disabled = true;
        try {
          await abortOnS3(r);
          dropRecord(r.uploadId);
        } catch (e) {
          showNotice(`Cannot discard the upload of "${r.name}": ${e.message}`, true);
        }
        renderPending();
      });
      li.append(text, discard);
      list.append(li);
    }
    $('pending').hidden = recs.length === 0;
  }

  // ---------- start-up

  function init() {
    if (!window.crypto || !crypto.subtle) {
      showNotice('This page needs WebCrypto, which browsers give only to secure pages: open it over https, or on http://localhost.', true);
      return;
    }
    takeFragmentToken();
    // The CSP lets the page reach serve and the store's origin only. Should
    // serve have worked that origin out wrongly, say so, not "network error".
    document.addEventListener('securitypolicyviolation', (ev) => {
      showNotice(`The page's security policy blocked ${ev.blockedURI || 'a request'} (${ev.effectiveDirective}). `
        + "If that is the store, serve could not tell the store's address: tell its operator.", true);
    });
    $('tokenform').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (t) useToken(t);
    });
    $('forget').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      location.reload();
    });
    const input = $('files');
    input.addEventListener('change', () => {
      addFiles(Array.from(input.files || []));
      input.value = ''; // so the same file can be picked again
    });
    const drop = $('drop');
    drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      addFiles(Array.from((ev.dataTransfer && ev.dataTransfer.files) || []));
    });
    $('pauseall').addEventListener('click', () => jobs.forEach(pause));
    $('resumeall').addEventListener('click', () => jobs.forEach(resume));
    $('cancelall').addEventListener('click', () => jobs.forEach((j) => { cancel(j); }));
    setInterval(renderProgress, 250);
    // Leaving the page: write down every part finished since the last save.
    window.addEventListener('pagehide', () => {
      for (const job of jobs) {
        if (job.uploadId && !['done', 'cancelled', 'cancelling'].includes(job.state)) saveJob(job);
      }
    });
    useToken(sessionStorage.getItem(TOKEN_KEY) || '');
  }

  init();
})();
