// The upload of each file: planning its parts, creating or resuming the
// multipart upload, sending parts (each signed with its SHA-256 and PUT
// straight to the store) across files up to the concurrency limit, retrying,
// completing, pausing and cancelling. It draws nothing itself: view.js
// registers how to show a change (onChange), so this module does not import it.
//
// Every request goes through api.js's `reach`, the calls to serve (create,
// list, sign, Complete, abort) through `api` and the part PUTs directly: a
// request that gets no answer because the connection is down waits for it
// and spends no attempt, and the file says what it waits to do (`waits`).
// Attempts (ATTEMPTS, with backoff) are for answers that are errors, and
// for failures the connection is not to blame for.

import {
  ATTEMPTS, UploadError, answered, api, backoff, enc, reach, retried, retryableStatus, session,
} from './api.js';
import { $, showNotice } from './dom.js';
import { abortOnS3, dropRecord, loadRecords, saveJob, scheduleSave } from './records.js';

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB; // S3's smallest part (but the last)
const MAX_PART = 5 * 1024 * MiB; // S3's largest part
const MAX_PARTS = 10000; // S3's part numbers run from 1 to this
const RESIGNS = 3; // fresh URLs for an expired one, which costs no attempt

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const jobs = [];
let active = 0; // parts in flight, across files

const show = { job: () => {}, batch: () => {}, pending: () => {} };
// `handlers`: {job(job): one file changed, batch(): the totals, pending(): the
// list of interrupted uploads}.
export function onChange(handlers) {
  Object.assign(show, handlers);
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
  return `${session.me ? session.me.prefix : ''}${randomHex(16)}-${clean || 'file'}`;
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
    waits: 0, // its requests waiting for the connection
    waitingTo: '', // what the latest of them waits to do
    el: null,
  };
  return job;
}

export function bytesSent(job) {
  let sum = 0;
  for (let n = 1; n <= job.count; n += 1) {
    const p = job.parts[n];
    sum += p.done ? p.end - p.start : Math.min(p.loaded, p.end - p.start);
  }
  return sum;
}

export function partsDone(job) {
  let k = 0;
  for (let n = 1; n <= job.count; n += 1) if (job.parts[n].done) k += 1;
  return k;
}

// The options of `reach` for a request of `job` that, while the connection
// is down, waits to do `doing` (shown on the file's row, see view.js) until
// `stopped()`.
function waits(job, doing, stopped = () => false) {
  return {
    stopped,
    waiting(on) {
      job.waits += on ? 1 : -1;
      if (on) job.waitingTo = doing;
      show.job(job);
    },
  };
}

const cancelled = (job) => () => ['cancelling', 'cancelled'].includes(job.state);

function setState(job, state, msg) {
  job.state = state;
  if (msg !== undefined) job.msg = msg;
  show.job(job);
  show.batch();
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
  let r;
  try {
    r = await withRetries(job, 'Creating the upload', () => api('POST', 's3/multipart', {
      filename: job.file.name,
      type: job.file.type || 'application/octet-stream',
      key: job.key,
      checksumAlgorithm: 'SHA256',
      metadata: {},
    }, waits(job, 'create the upload', cancelled(job))));
  } catch (e) {
    if (job.state !== 'cancelling') throw e;
    setState(job, 'cancelled', 'Cancelled.'); // while it waited: nothing on S3
    return;
  }
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
      () => api('GET', `s3/multipart/${enc(rec.uploadId)}?key=${enc(rec.key)}`, undefined,
        waits(job, 'ask which parts S3 holds', cancelled(job))));
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
    show.job(job);
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

// `call` for `job`, retried (see api.js) unless the file is paused or
// cancelled meanwhile; the file says what it retries.
function withRetries(job, what, call) {
  return retried(call, (e, next, delay) => {
    if (['paused', 'cancelling', 'cancelled'].includes(job.state)) return false;
    job.msg = `${what} failed (${e.message}); attempt ${next} of ${ATTEMPTS} in ${(delay / 1000).toFixed(1)} s.`;
    show.job(job);
    return true;
  });
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
      const how = waits(job, 'send the remaining parts', () => job.state !== 'uploading');
      const sig = await api('GET', `s3/multipart/${enc(job.uploadId)}/${n}?key=${enc(job.key)}&sha256=${enc(part.sha256)}`, undefined, how);
      if (job.state !== 'uploading') { requeue(job, n); return; }
      part.etag = await reach(() => putPart(part, sig, body), how);
      part.done = true;
      part.xhr = null;
      scheduleSave(job);
      show.job(job);
      show.batch();
      return;
    } catch (e) {
      part.xhr = null;
      part.loaded = 0;
      if (job.state !== 'uploading') { requeue(job, n); return; }
      if (e.expired && resigned < RESIGNS) { resigned += 1; continue; }
      attempt += 1;
      if (!e.retryable || attempt >= ATTEMPTS) {
        throw new UploadError(`part ${n}: ${e.message}${e.retryable ? ` (after ${ATTEMPTS} attempts)` : ''}`, e);
      }
      const delay = backoff(attempt);
      job.msg = `Part ${n} failed (${e.message}); attempt ${attempt + 1} of ${ATTEMPTS} in ${(delay / 1000).toFixed(1)} s.`;
      show.job(job);
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

// One PUT of a part. A PUT that does not succeed marks the part
// `interrupted` (see resendInterrupted).
function putPart(part, sig, body) {
  const origin = new URL(sig.url, location.href).origin;
  return new Promise((resolve, rejectPut) => {
    const reject = (e) => {
      part.interrupted = true;
      rejectPut(e);
    };
    const xhr = new XMLHttpRequest();
    part.xhr = xhr;
    part.loaded = 0;
    xhr.open('PUT', sig.url);
    for (const [name, value] of Object.entries(sig.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (ev) => { part.loaded = ev.loaded; };
    xhr.onload = () => {
      answered(origin);
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
    xhr.onerror = () => reject(new UploadError("network error, or the bucket's CORS rules do not let this page PUT (see the README)",
      { retryable: true, noAnswer: true, origin }));
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
  const how = waits(job, 'complete the upload', () => job.state !== 'completing');
  let done = null;
  for (let attempt = 1; ; attempt += 1) {
    try {
      done = await api('POST', `s3/multipart/${enc(job.uploadId)}/complete?key=${enc(job.key)}`, { parts }, how);
      break;
    } catch (e) {
      if (job.state !== 'completing') return; // cancelled meanwhile
      // The upload is gone: completed by an earlier try whose answer was lost
      // (here or between serve and S3)? The key is this upload's own (a
      // random id), so an object there of the file's size is this upload.
      if (e.status === 404) {
        const o = await api('GET', `s3/object?key=${enc(job.key)}`, undefined, how);
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
  setState(job, 'done', `${job.note ? `${job.note} ` : ''}Uploaded to ${(done && done.key) || job.key}${extra}.`);
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

export function pause(job) {
  if (!['uploading', 'checking', 'starting'].includes(job.state)) return;
  setState(job, 'paused', 'Paused. The parts already sent are kept on S3.');
  stopParts(job);
  if (job.uploadId) saveJob(job);
}

export function resume(job) {
  if (job.state === 'failed' && !job.uploadId) { // it failed before S3 had an upload
    startJob(job).catch((e) => fail(job, e)).finally(show.pending);
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

export async function cancel(job) {
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
    await abortOnS3(job, waits(job, 'cancel the upload'));
  } catch (e) {
    setState(job, before === 'failed' ? 'failed' : 'paused',
      `Cancelling failed (${e.message}): the upload is still on S3. Press Cancel again.`);
    return;
  }
  dropRecord(job.uploadId);
  setState(job, 'cancelled', 'Cancelled: the upload was aborted on S3.');
  show.pending();
}

function fail(job, e) {
  if (['cancelling', 'cancelled', 'done', 'paused'].includes(job.state)) return;
  setState(job, 'failed', `${e.message} Press Retry to try again: the parts already sent are kept.`);
  stopParts(job);
}

// ---------- adding files

export function addFiles(files) {
  if (!session.me) {
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
    show.job(job);
    startJob(job).catch((e) => fail(job, e)).finally(show.pending);
  }
  show.batch();
}
