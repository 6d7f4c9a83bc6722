// A stock Uppy page: @uppy/core and @uppy/aws-s3 as published, pointed at
// `s3up serve` through `companionEndpoint`, with no s3up code at all. It
// proves that serve speaks Companion's protocol to the real client. Bundled
// by scripts/build-uppy-fixture into bundle.js (committed).
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

const MiB = 1024 * 1024;
const params = new URLSearchParams(location.hash.slice(1));
const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, {
  companionEndpoint: params.get('endpoint'),
  // Multipart above 5 MiB (Uppy's default is 100 MiB), so a small test file
  // takes each path: multipart, and the presigned POST form of /s3/params.
  shouldUseMultipart: (file) => file.size > 5 * MiB,
  getChunkSize: () => 5 * MiB,
});

const status = document.getElementById('status');
document.getElementById('files').addEventListener('change', async (ev) => {
  for (const f of Array.from(ev.target.files)) {
    uppy.addFile({ name: f.name, type: f.type || 'application/octet-stream', data: f, source: 'Local' });
  }
  status.textContent = 'uploading';
  try {
    const result = await uppy.upload();
    window.uppyResult = {
      successful: result.successful.map((f) => ({ name: f.name, key: f.response?.body?.key, location: f.response?.body?.location })),
      failed: result.failed.map((f) => ({ name: f.name, error: String(f.error) })),
    };
  } catch (e) {
    window.uppyResult = { successful: [], failed: [{ name: '', error: String(e) }] };
  }
  status.textContent = 'done';
});
