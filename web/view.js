// Drawing the page: each file's row, the totals, the list of interrupted
// uploads and the offline note. It reads upload.js's state (and api.js's
// outages) and calls upload.js's actions from the buttons.

import { outages } from './api.js';
import { $, el, fmtBytes, fmtDuration, showNotice } from './dom.js';
import { abortOnS3, dropRecord, loadRecords } from './records.js';
import { bytesSent, cancel, jobs, partsDone, pause, resume } from './upload.js';

const RATE_WINDOW_MS = 8000;

function sampleRate(job, now) {
  const sent = bytesSent(job);
  job.samples.push({ t: now, b: sent });
  while (job.samples.length > 2 && now - job.samples[0].t > RATE_WINDOW_MS) job.samples.shift();
  if (job.state !== 'uploading') { job.samples = [{ t: now, b: sent }]; return { sent, rate: 0 }; }
  const first = job.samples[0];
  const dt = (now - first.t) / 1000;
  return { sent, rate: dt >= 0.5 ? (sent - first.b) / dt : 0 };
}

export function renderJob(job) {
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
  // While its requests wait for the connection, that is what the file does;
  // its own message is back as soon as they go on.
  li.dataset.waiting = job.waits > 0 ? 'true' : 'false';
  li.querySelector('.msg').textContent = job.waits > 0
    ? `Waiting for the connection to ${job.waitingTo}: it goes on by itself once the connection is back.`
    : job.msg;
  li.querySelector('.pause').disabled = !['uploading', 'checking', 'starting'].includes(job.state);
  const rb = li.querySelector('.resume');
  rb.textContent = job.state === 'failed' ? 'Retry' : 'Resume';
  rb.disabled = !(job.state === 'failed' || (job.state === 'paused' && job.uploadId));
  li.querySelector('.cancel').disabled = ['done', 'cancelled', 'cancelling'].includes(job.state);
}

export function renderProgress() {
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
    if (job.waits > 0) {
      text += ' · waiting for the connection';
    } else if (job.state === 'uploading') {
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

// The offline note: shown while some origin does not answer (api.js,
// outages), gone as soon as every one answers again, whatever told the page.
export function renderLink() {
  const note = $('offline');
  const all = Array.from(outages.values());
  note.hidden = all.length === 0;
  if (all.length === 0) {
    note.textContent = '';
    return;
  }
  const since = Math.min(...all.map((o) => o.since));
  const next = Math.max(0, Math.ceil((Math.min(...all.map((o) => o.next)) - Date.now()) / 1000));
  const who = all.map((o) => (o.origin ? `the store (${o.origin})` : 'the server')).join(' or ');
  const why = navigator.onLine === false ? 'the browser reports no network' : `no answer from ${who}`;
  note.textContent = `Offline since ${new Date(since).toLocaleTimeString()}: ${why}; `
    + `${next > 0 ? `checking again in ${next} s` : 'checking now'}. The uploads wait, spending none `
    + 'of their attempts, and carry on by themselves once the connection is back.';
}

export function renderBatch() {
  renderProgress();
}

export function renderAll() {
  for (const job of jobs) if (job.el) renderJob(job);
  renderBatch();
}

export function renderPending() {
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
