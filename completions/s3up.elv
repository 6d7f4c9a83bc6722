
use builtin;
use str;

set edit:completion:arg-completer[s3up] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 's3up'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'s3up'= {
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand put 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
            cand cp 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
            cand sync 'Upload a tree like `put`, skipping each file whose object is unchanged'
            cand resume 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet'
            cand list-pending 'List unfinished uploads: local journals, or with --remote the uploads S3 holds'
            cand abort 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket'
            cand serve 'Run the presigning backend: clients upload with a token and no AWS credentials'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'s3up;put'= {
            cand --exclude 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says'
            cand --include 'Send only files matching GLOB (repeatable; same patterns as --exclude)'
            cand --via 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend'
            cand --token-file 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]'
            cand --token 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN'
            cand --part-size 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]'
            cand --concurrency 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]'
            cand --retries 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3'
            cand --stall-timeout 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m'
            cand --max-offline 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out'
            cand --limit-rate 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]'
            cand --progress 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged'
            cand --content-type 'Content-Type of the object [default: guessed from the file extension]'
            cand --storage-class 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]'
            cand --metadata 'User metadata stored with the object (x-amz-meta-KEY); repeatable'
            cand --checksum-algorithm 'Checksum of each part, checked by the store [default: SHA256]'
            cand --checksum-type 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand -r 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --recursive 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --follow-symlinks 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
            cand --restart 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
            cand --no-progress 'Same as --progress none'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Print one JSON summary object on stdout when done'
            cand --if-none-match 'Fail instead of overwriting when the key already exists'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'s3up;cp'= {
            cand --exclude 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says'
            cand --include 'Send only files matching GLOB (repeatable; same patterns as --exclude)'
            cand --via 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend'
            cand --token-file 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]'
            cand --token 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN'
            cand --part-size 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]'
            cand --concurrency 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]'
            cand --retries 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3'
            cand --stall-timeout 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m'
            cand --max-offline 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out'
            cand --limit-rate 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]'
            cand --progress 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged'
            cand --content-type 'Content-Type of the object [default: guessed from the file extension]'
            cand --storage-class 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]'
            cand --metadata 'User metadata stored with the object (x-amz-meta-KEY); repeatable'
            cand --checksum-algorithm 'Checksum of each part, checked by the store [default: SHA256]'
            cand --checksum-type 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand -r 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --recursive 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --follow-symlinks 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
            cand --restart 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
            cand --no-progress 'Same as --progress none'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Print one JSON summary object on stdout when done'
            cand --if-none-match 'Fail instead of overwriting when the key already exists'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'s3up;sync'= {
            cand --exclude 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says'
            cand --include 'Send only files matching GLOB (repeatable; same patterns as --exclude)'
            cand --via 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend'
            cand --token-file 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]'
            cand --token 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN'
            cand --part-size 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]'
            cand --concurrency 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]'
            cand --retries 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3'
            cand --stall-timeout 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m'
            cand --max-offline 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out'
            cand --limit-rate 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]'
            cand --progress 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged'
            cand --content-type 'Content-Type of the object [default: guessed from the file extension]'
            cand --storage-class 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]'
            cand --metadata 'User metadata stored with the object (x-amz-meta-KEY); repeatable'
            cand --checksum-algorithm 'Checksum of each part, checked by the store [default: SHA256]'
            cand --checksum-type 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand -r 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --recursive 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
            cand --follow-symlinks 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
            cand --restart 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
            cand --no-progress 'Same as --progress none'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Print one JSON summary object on stdout when done'
            cand --if-none-match 'Fail instead of overwriting when the key already exists'
            cand --size-only 'Unchanged means the same size alone (not the time)'
            cand --checksum 'Unchanged means the same content: each file whose size matches is read and its MD5 compared with the ETag listed (the MD5 of the object, or of its parts at this --part-size). Objects encrypted with SSE-KMS list no MD5 and are always sent'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'s3up;resume'= {
            cand --token-file 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]'
            cand --token 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN'
            cand --concurrency 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]'
            cand --retries 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3'
            cand --stall-timeout 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m'
            cand --max-offline 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out'
            cand --limit-rate 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]'
            cand --progress 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --all 'Resume every pending upload, one after another'
            cand --no-verify 'Trust the parts the journal names without re-reading them. Faster when the missing parts are few and the disk is slow, but a file rewritten in place with its modification time kept (cp -p, rsync -t, tar x) then gives an object that mixes old and new bytes. Parts on S3 that the journal lost are still checked before they are reused'
            cand --verify 'The default; accepted so that older scripts keep working'
            cand --no-progress 'Same as --progress none'
            cand -q 'Print nothing but errors'
            cand --quiet 'Print nothing but errors'
            cand --json 'Print one JSON summary object on stdout when done'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'s3up;list-pending'= {
            cand --remote 'List the in-progress uploads S3 holds under s3://BUCKET[/PREFIX] instead (they cost storage until completed or aborted)'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --json 'Print a JSON array on stdout'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'s3up;abort'= {
            cand --remote 'Abort in-progress uploads S3 holds under s3://BUCKET[/PREFIX] (with --older-than)'
            cand --older-than 'Only uploads started longer ago than this, e.g. 7d, 12h, 30m, 0s (required with --remote)'
            cand --token-file 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]'
            cand --token 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --yes 'Really abort; without it, --remote only lists what it would abort'
            cand --forget 'Remove the journal even if the abort fails (a backend that is gone for good, a token you no longer have). The upload may then stay open on the store, costing storage, until a lifecycle rule removes it; its ID is printed'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'s3up;serve'= {
            cand --listen 'Address to listen on, e.g. 127.0.0.1:8080, or 0.0.0.0:8080 behind a TLS proxy'
            cand --bucket 'The bucket uploads go to'
            cand --prefix 'Every key lies under this prefix (each caller''s own prefix comes after it)'
            cand --url-expiry 'How long a presigned URL stays valid, e.g. 15m, 1h, 900 (seconds); at most 7d, and never past the credentials'' own expiry'
            cand --tokens 'Bearer tokens: lines ''sha256:HEX PREFIX [ID]'' (see the README)'
            cand --jwt-secret-file 'Accept HS256 JWTs signed with this file''s contents; ''exp'' is required, ''nbf'' and ''iat'' are enforced, and the ''prefix'' claim names what the caller may write'
            cand --jwt-max-lifetime 'The longest a JWT may live: tokens whose exp - iat, or exp - now, is longer are refused, e.g. 1h, 1d'
            cand --cors-origin 'Let browser pages from this origin call serve (repeatable; * for any)'
            cand --request-timeout 'How long a request may take, once its body is in, before it is answered 408, e.g. 300 (seconds) or 5m'
            cand --header-timeout 'How long a request''s line and headers may take to arrive; also how long an idle keep-alive connection is kept'
            cand --body-timeout 'How long a request''s body may take to arrive (answered 408 after)'
            cand --write-timeout 'How long a client may leave the answer unread before its connection is closed (measured between two writes that make progress)'
            cand --max-connections 'Connections open at once; more are answered 503 and closed. Kept below the open-file limit, which serve raises to its hard limit at start'
            cand --max-concurrent 'Requests served at once, all callers together, once their bodies are in; more are answered 503 at once'
            cand --max-concurrent-per-caller 'Requests one caller (a token, or a JWT subject) may have in flight, body included; more are answered 429'
            cand --rate-limit 'Requests a second one caller may make, in bursts of as many; more are answered 429 with Retry-After. 0: no limit'
            cand --create-rate-limit 'Multipart uploads a second one caller may create (each costs storage until completed or aborted), in bursts of as many. 0: no limit'
            cand --address-rate-limit 'Requests a second one client address may make to the routes that need no token (the page, /healthz, /openapi.json). 0: no limit'
            cand --metrics-listen 'Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 (a listener of its own, with no authentication: keep it private)'
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --no-auth 'Accept requests with no token at all (only on a loopback address)'
            cand --apply-bucket-cors 'Replace the bucket''s CORS configuration with one that lets browsers at the --cors-origin origins PUT parts and read their ETag, then serve'
            cand --json-logs 'Log one JSON object per request instead of text'
            cand --trust-proxy 'Take the client''s address from the first X-Forwarded-For hop (for the logs and the per-address limits): only behind a proxy that sets it'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'s3up;completions'= {
            cand --endpoint-url 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)'
            cand --region 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)'
            cand --profile 'Named profile from ~/.aws/config and ~/.aws/credentials'
            cand --journal-dir 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)'
            cand --path-style 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'s3up;help'= {
            cand put 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
            cand sync 'Upload a tree like `put`, skipping each file whose object is unchanged'
            cand resume 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet'
            cand list-pending 'List unfinished uploads: local journals, or with --remote the uploads S3 holds'
            cand abort 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket'
            cand serve 'Run the presigning backend: clients upload with a token and no AWS credentials'
            cand completions 'Print a shell completion script to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'s3up;help;put'= {
        }
        &'s3up;help;sync'= {
        }
        &'s3up;help;resume'= {
        }
        &'s3up;help;list-pending'= {
        }
        &'s3up;help;abort'= {
        }
        &'s3up;help;serve'= {
        }
        &'s3up;help;completions'= {
        }
        &'s3up;help;help'= {
        }
    ]
    $completions[$command]
}
