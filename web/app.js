// s3up's browser uploader, served by `s3up serve` at `/` (issue 12).
//
// Plain JavaScript with no framework and no build step: the files the browser
// runs are these ES modules, as written (README, "The browser page", says
// why). This one holds the token and the start-up; api.js speaks serve's API
// (Companion's S3 multipart routes plus s3up's extensions) with a bearer
// token; upload.js PUTs each part straight to S3 over a URL presigned with
// that part's SHA-256, so S3 itself refuses a part whose bytes changed on the
// way; records.js keeps what a reload needs; view.js draws; dom.js is the leaf
// of small helpers. The imports form no cycle: upload.js learns how to show a
// change through onChange, api.js what to do on a refused token through
// onRefused.
//
// What the browser keeps:
// - the token, in sessionStorage only (this tab; gone when it closes);
// - for each unfinished upload, in localStorage under STORE_KEY: the file's
//   name, size and lastModified, the key, the UploadId, the part size and each
//   finished part's ETag and SHA-256. Picking the same file again after a
//   reload asks serve which parts S3 holds, checks each one's SHA-256 against
//   the file, and sends only the rest. A file whose bytes differ is never
//   mixed with the old parts: the old upload is aborted and it starts afresh.

import {
  ATTEMPTS, api, onLink, onRefused, retried, session,
} from './api.js';
import { $, showNotice } from './dom.js';
import { saveJob } from './records.js';
import { addFiles, cancel, jobs, onChange, pause, resume } from './upload.js';
import {
  renderAll, renderBatch, renderJob, renderLink, renderPending, renderProgress,
} from './view.js';

const TOKEN_KEY = 's3up.token';

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
  session.token = t;
  if (t) showNotice('Checking the token…');
  try {
    // A server that answers 5xx or 429 (a function's cold start, a
    // throttle) is asked again before the page gives up on it.
    session.me = await retried(() => api('GET', 's3/whoami'), (e, next, delay) => {
      showNotice(`Cannot check the token yet (${e.message}); attempt ${next} of ${ATTEMPTS} in ${(delay / 1000).toFixed(1)} s.`);
    });
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
  $('who').textContent = `Signed in as ${session.me.id}; files go under ${session.me.prefix || 'any key'}`;
  $('tokenform').hidden = true;
  $('uploader').hidden = false;
  $('forget').hidden = !t;
  for (const job of jobs) if (job.state === 'paused' && job.pausedByAuth) resume(job);
  renderPending();
}

// One sentence of why, then what to do. The server's reason is shown only
// when it says more than that the token was refused (bad_token's plain "the
// token was not accepted" would only say the same thing twice).
function refusedNotice(err) {
  const why = (err.message || '').replace(/[.\s]+$/, '');
  if (err.code === 'expired_token') return 'The server refused the token: it has expired. Enter a new upload token to continue.';
  if (!why || /^the token was not accepted\b/.test(why)) {
    return 'The server refused the token. Enter a valid upload token to continue.';
  }
  return `The server refused the token (${why}). Enter a valid upload token to continue.`;
}

function tokenRefused(err) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.me = null;
  showNotice(refusedNotice(err), true);
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

// ---------- start-up

function init() {
  onChange({ job: renderJob, batch: renderBatch, pending: renderPending });
  onRefused(tokenRefused);
  onLink(renderLink);
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
  setInterval(() => { renderProgress(); renderLink(); }, 250);
  // Leaving the page: write down every part finished since the last save.
  window.addEventListener('pagehide', () => {
    for (const job of jobs) {
      if (job.uploadId && !['done', 'cancelled', 'cancelling'].includes(job.state)) saveJob(job);
    }
  });
  useToken(sessionStorage.getItem(TOKEN_KEY) || '');
}

init();
