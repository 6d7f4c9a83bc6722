// What the browser remembers of unfinished uploads (localStorage, under
// STORE_KEY): enough to carry one on after a reload (see app.js).

import { api, enc } from './api.js';
import { showNotice } from './dom.js';

export const STORE_KEY = 's3up.uploads.v1';

export function loadRecords() {
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

export function saveJob(job) {
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
export function scheduleSave(job) {
  if (job.saveTimer) return;
  job.saveTimer = setTimeout(() => {
    job.saveTimer = null;
    if (job.uploadId && !['done', 'cancelled', 'cancelling'].includes(job.state)) saveJob(job);
  }, SAVE_DELAY_MS);
}

export function dropRecord(uploadId) {
  const all = loadRecords();
  delete all[uploadId];
  saveRecords(all);
}

// `how`: how the call waits for a lost connection (api.js, reach).
export async function abortOnS3(rec, how) {
  try {
    await api('DELETE', `s3/multipart/${enc(rec.uploadId)}?key=${enc(rec.key)}`, undefined, how);
  } catch (e) {
    if (e.status !== 404) throw e; // 404: already gone
  }
}
