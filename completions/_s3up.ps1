
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 's3up' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        's3up'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        's3up' {
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Upload a tree like `put`, skipping each file whose object is unchanged')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet')
            [CompletionResult]::new('list-pending', 'list-pending', [CompletionResultType]::ParameterValue, 'List unfinished uploads: local journals, or with --remote the uploads S3 holds')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the presigning backend: clients upload with a token and no AWS credentials')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        's3up;put' {
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Send only files matching GLOB (repeatable; same patterns as --exclude)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN')
            [CompletionResult]::new('--part-size', '--part-size', [CompletionResultType]::ParameterName, 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]')
            [CompletionResult]::new('--expected-size', '--expected-size', [CompletionResultType]::ParameterName, 'For standard input (''-''): the stream''s size, when known. Its parts are then sized as a file''s of that size (with an ETA); without it they grow as the stream does, from 8MiB')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m')
            [CompletionResult]::new('--max-offline', '--max-offline', [CompletionResultType]::ParameterName, 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]')
            [CompletionResult]::new('--max-memory', '--max-memory', [CompletionResultType]::ParameterName, 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged')
            [CompletionResult]::new('--content-type', '--content-type', [CompletionResultType]::ParameterName, 'Content-Type of the object [default: guessed from the file extension]')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]')
            [CompletionResult]::new('--metadata', '--metadata', [CompletionResultType]::ParameterName, 'User metadata stored with the object (x-amz-meta-KEY); repeatable')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket''s]')
            [CompletionResult]::new('--sse-kms-key-id', '--sse-kms-key-id', [CompletionResultType]::ParameterName, 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account''s aws/s3 key]')
            [CompletionResult]::new('--sse-c', '--sse-c', [CompletionResultType]::ParameterName, 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again')
            [CompletionResult]::new('--sse-c-key', '--sse-c-key', [CompletionResultType]::ParameterName, 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)')
            [CompletionResult]::new('--acl', '--acl', [CompletionResultType]::ParameterName, 'Canned ACL of the object, e.g. bucket-owner-full-control')
            [CompletionResult]::new('--cache-control', '--cache-control', [CompletionResultType]::ParameterName, 'Cache-Control of the object, e.g. ''max-age=3600''')
            [CompletionResult]::new('--content-disposition', '--content-disposition', [CompletionResultType]::ParameterName, 'Content-Disposition of the object, e.g. ''attachment; filename="a.bin"''')
            [CompletionResult]::new('--content-encoding', '--content-encoding', [CompletionResultType]::ParameterName, 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)')
            [CompletionResult]::new('--content-language', '--content-language', [CompletionResultType]::ParameterName, 'Content-Language of the object, e.g. en-GB')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date')
            [CompletionResult]::new('--tagging', '--tagging', [CompletionResultType]::ParameterName, 'Tags of the object, URL-encoded: ''key1=value1&key2=value2''')
            [CompletionResult]::new('--expected-bucket-owner', '--expected-bucket-owner', [CompletionResultType]::ParameterName, 'Fail unless the bucket belongs to this AWS account ID')
            [CompletionResult]::new('--request-payer', '--request-payer', [CompletionResultType]::ParameterName, 'Accept the charges of a Requester Pays bucket')
            [CompletionResult]::new('--checksum-algorithm', '--checksum-algorithm', [CompletionResultType]::ParameterName, 'Checksum of each part, checked by the store [default: SHA256]')
            [CompletionResult]::new('--checksum-type', '--checksum-type', [CompletionResultType]::ParameterName, 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--follow-symlinks', '--follow-symlinks', [CompletionResultType]::ParameterName, 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Same as --progress none')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout when done')
            [CompletionResult]::new('--if-none-match', '--if-none-match', [CompletionResultType]::ParameterName, 'Fail instead of overwriting when the key already exists')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        's3up;cp' {
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Send only files matching GLOB (repeatable; same patterns as --exclude)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN')
            [CompletionResult]::new('--part-size', '--part-size', [CompletionResultType]::ParameterName, 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]')
            [CompletionResult]::new('--expected-size', '--expected-size', [CompletionResultType]::ParameterName, 'For standard input (''-''): the stream''s size, when known. Its parts are then sized as a file''s of that size (with an ETA); without it they grow as the stream does, from 8MiB')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m')
            [CompletionResult]::new('--max-offline', '--max-offline', [CompletionResultType]::ParameterName, 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]')
            [CompletionResult]::new('--max-memory', '--max-memory', [CompletionResultType]::ParameterName, 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged')
            [CompletionResult]::new('--content-type', '--content-type', [CompletionResultType]::ParameterName, 'Content-Type of the object [default: guessed from the file extension]')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]')
            [CompletionResult]::new('--metadata', '--metadata', [CompletionResultType]::ParameterName, 'User metadata stored with the object (x-amz-meta-KEY); repeatable')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket''s]')
            [CompletionResult]::new('--sse-kms-key-id', '--sse-kms-key-id', [CompletionResultType]::ParameterName, 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account''s aws/s3 key]')
            [CompletionResult]::new('--sse-c', '--sse-c', [CompletionResultType]::ParameterName, 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again')
            [CompletionResult]::new('--sse-c-key', '--sse-c-key', [CompletionResultType]::ParameterName, 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)')
            [CompletionResult]::new('--acl', '--acl', [CompletionResultType]::ParameterName, 'Canned ACL of the object, e.g. bucket-owner-full-control')
            [CompletionResult]::new('--cache-control', '--cache-control', [CompletionResultType]::ParameterName, 'Cache-Control of the object, e.g. ''max-age=3600''')
            [CompletionResult]::new('--content-disposition', '--content-disposition', [CompletionResultType]::ParameterName, 'Content-Disposition of the object, e.g. ''attachment; filename="a.bin"''')
            [CompletionResult]::new('--content-encoding', '--content-encoding', [CompletionResultType]::ParameterName, 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)')
            [CompletionResult]::new('--content-language', '--content-language', [CompletionResultType]::ParameterName, 'Content-Language of the object, e.g. en-GB')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date')
            [CompletionResult]::new('--tagging', '--tagging', [CompletionResultType]::ParameterName, 'Tags of the object, URL-encoded: ''key1=value1&key2=value2''')
            [CompletionResult]::new('--expected-bucket-owner', '--expected-bucket-owner', [CompletionResultType]::ParameterName, 'Fail unless the bucket belongs to this AWS account ID')
            [CompletionResult]::new('--request-payer', '--request-payer', [CompletionResultType]::ParameterName, 'Accept the charges of a Requester Pays bucket')
            [CompletionResult]::new('--checksum-algorithm', '--checksum-algorithm', [CompletionResultType]::ParameterName, 'Checksum of each part, checked by the store [default: SHA256]')
            [CompletionResult]::new('--checksum-type', '--checksum-type', [CompletionResultType]::ParameterName, 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--follow-symlinks', '--follow-symlinks', [CompletionResultType]::ParameterName, 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Same as --progress none')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout when done')
            [CompletionResult]::new('--if-none-match', '--if-none-match', [CompletionResultType]::ParameterName, 'Fail instead of overwriting when the key already exists')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        's3up;sync' {
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files matching GLOB (repeatable). A pattern without ''/'' matches the file name at any depth (''*.tmp''); one with ''/'' the path under the prefix (''logs/*.gz''); ''*'' stops at ''/'', ''**'' does not. An excluded file is never sent, whatever --include says')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Send only files matching GLOB (repeatable; same patterns as --exclude)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN')
            [CompletionResult]::new('--part-size', '--part-size', [CompletionResultType]::ParameterName, 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]')
            [CompletionResult]::new('--expected-size', '--expected-size', [CompletionResultType]::ParameterName, 'For standard input (''-''): the stream''s size, when known. Its parts are then sized as a file''s of that size (with an ETA); without it they grow as the stream does, from 8MiB')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m')
            [CompletionResult]::new('--max-offline', '--max-offline', [CompletionResultType]::ParameterName, 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]')
            [CompletionResult]::new('--max-memory', '--max-memory', [CompletionResultType]::ParameterName, 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged')
            [CompletionResult]::new('--content-type', '--content-type', [CompletionResultType]::ParameterName, 'Content-Type of the object [default: guessed from the file extension]')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Storage class of the object, e.g. STANDARD_IA [default: the bucket''s]')
            [CompletionResult]::new('--metadata', '--metadata', [CompletionResultType]::ParameterName, 'User metadata stored with the object (x-amz-meta-KEY); repeatable')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket''s]')
            [CompletionResult]::new('--sse-kms-key-id', '--sse-kms-key-id', [CompletionResultType]::ParameterName, 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account''s aws/s3 key]')
            [CompletionResult]::new('--sse-c', '--sse-c', [CompletionResultType]::ParameterName, 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again')
            [CompletionResult]::new('--sse-c-key', '--sse-c-key', [CompletionResultType]::ParameterName, 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)')
            [CompletionResult]::new('--acl', '--acl', [CompletionResultType]::ParameterName, 'Canned ACL of the object, e.g. bucket-owner-full-control')
            [CompletionResult]::new('--cache-control', '--cache-control', [CompletionResultType]::ParameterName, 'Cache-Control of the object, e.g. ''max-age=3600''')
            [CompletionResult]::new('--content-disposition', '--content-disposition', [CompletionResultType]::ParameterName, 'Content-Disposition of the object, e.g. ''attachment; filename="a.bin"''')
            [CompletionResult]::new('--content-encoding', '--content-encoding', [CompletionResultType]::ParameterName, 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)')
            [CompletionResult]::new('--content-language', '--content-language', [CompletionResultType]::ParameterName, 'Content-Language of the object, e.g. en-GB')
            [CompletionResult]::new('--expires', '--expires', [CompletionResultType]::ParameterName, 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date')
            [CompletionResult]::new('--tagging', '--tagging', [CompletionResultType]::ParameterName, 'Tags of the object, URL-encoded: ''key1=value1&key2=value2''')
            [CompletionResult]::new('--expected-bucket-owner', '--expected-bucket-owner', [CompletionResultType]::ParameterName, 'Fail unless the bucket belongs to this AWS account ID')
            [CompletionResult]::new('--request-payer', '--request-payer', [CompletionResultType]::ParameterName, 'Accept the charges of a Requester Pays bucket')
            [CompletionResult]::new('--checksum-algorithm', '--checksum-algorithm', [CompletionResultType]::ParameterName, 'Checksum of each part, checked by the store [default: SHA256]')
            [CompletionResult]::new('--checksum-type', '--checksum-type', [CompletionResultType]::ParameterName, 'composite: a checksum of the parts'' checksums; full-object: the whole object''s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree')
            [CompletionResult]::new('--follow-symlinks', '--follow-symlinks', [CompletionResultType]::ParameterName, 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Same as --progress none')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout when done')
            [CompletionResult]::new('--if-none-match', '--if-none-match', [CompletionResultType]::ParameterName, 'Fail instead of overwriting when the key already exists')
            [CompletionResult]::new('--size-only', '--size-only', [CompletionResultType]::ParameterName, 'Unchanged means the same size alone (not the time)')
            [CompletionResult]::new('--checksum', '--checksum', [CompletionResultType]::ParameterName, 'Unchanged means the same content: each file whose size matches is read and its MD5 compared with the ETag listed (the MD5 of the object, or of its parts at this --part-size). Objects encrypted with SSE-KMS list no MD5 and are always sent')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        's3up;resume' {
            [CompletionResult]::new('--sse-c-key', '--sse-c-key', [CompletionResultType]::ParameterName, 'The SSE-C key the upload started with (the journal keeps only its MD5, and a different key is refused): a file, as for `put`')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3')
            [CompletionResult]::new('--stall-timeout', '--stall-timeout', [CompletionResultType]::ParameterName, 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m')
            [CompletionResult]::new('--max-offline', '--max-offline', [CompletionResultType]::ParameterName, 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out')
            [CompletionResult]::new('--limit-rate', '--limit-rate', [CompletionResultType]::ParameterName, 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]')
            [CompletionResult]::new('--max-memory', '--max-memory', [CompletionResultType]::ParameterName, 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Resume every pending upload, one after another')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Trust the parts the journal names without re-reading them. Faster when the missing parts are few and the disk is slow, but a file rewritten in place with its modification time kept (cp -p, rsync -t, tar x) then gives an object that mixes old and new bytes. Parts on S3 that the journal lost are still checked before they are reused')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'The default; accepted so that older scripts keep working')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Same as --progress none')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout when done')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        's3up;list-pending' {
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'List the in-progress uploads S3 holds under s3://BUCKET[/PREFIX] instead (they cost storage until completed or aborted)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array on stdout')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        's3up;abort' {
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Abort in-progress uploads S3 holds under s3://BUCKET[/PREFIX] (with --older-than)')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only uploads started longer ago than this, e.g. 7d, 12h, 30m, 0s (required with --remote)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read the --via backend''s token from FILE [default: the S3UP_TOKEN environment variable]')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The --via backend''s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Really abort; without it, --remote only lists what it would abort')
            [CompletionResult]::new('--include-local', '--include-local', [CompletionResultType]::ParameterName, 'With --remote, also abort uploads a local journal owns, and delete their journals; without it they are listed, marked, and kept')
            [CompletionResult]::new('--forget', '--forget', [CompletionResultType]::ParameterName, 'Remove the journal even if the abort fails (a backend that is gone for good, a token you no longer have). The upload may then stay open on the store, costing storage, until a lifecycle rule removes it; its ID is printed')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        's3up;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on, e.g. 127.0.0.1:8080, or 0.0.0.0:8080 behind a TLS proxy')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'The bucket uploads go to')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Every key lies under this prefix (each caller''s own prefix comes after it)')
            [CompletionResult]::new('--url-expiry', '--url-expiry', [CompletionResultType]::ParameterName, 'How long a presigned URL stays valid, e.g. 15m, 1h, 900 (seconds); at most 7d, and never past the credentials'' own expiry')
            [CompletionResult]::new('--tokens', '--tokens', [CompletionResultType]::ParameterName, 'Bearer tokens: lines ''sha256:HEX PREFIX [ID]'' (see the README)')
            [CompletionResult]::new('--jwt-secret-file', '--jwt-secret-file', [CompletionResultType]::ParameterName, 'Accept HS256 JWTs signed with this file''s contents; ''exp'' is required, ''nbf'' and ''iat'' are enforced, and the ''prefix'' claim names what the caller may write')
            [CompletionResult]::new('--jwt-max-lifetime', '--jwt-max-lifetime', [CompletionResultType]::ParameterName, 'The longest a JWT may live: tokens whose exp - iat, or exp - now, is longer are refused, e.g. 1h, 1d')
            [CompletionResult]::new('--cors-origin', '--cors-origin', [CompletionResultType]::ParameterName, 'Let browser pages from this origin call serve (repeatable; * for any)')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'How long a request may take, once its body is in, before it is answered 408, e.g. 300 (seconds) or 5m')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'How long a request''s line and headers may take to arrive; also how long an idle keep-alive connection is kept')
            [CompletionResult]::new('--body-timeout', '--body-timeout', [CompletionResultType]::ParameterName, 'How long a request''s body may take to arrive (answered 408 after)')
            [CompletionResult]::new('--write-timeout', '--write-timeout', [CompletionResultType]::ParameterName, 'How long a client may leave the answer unread before its connection is closed (measured between two writes that make progress)')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections open at once; more are answered 503 and closed. Kept below the open-file limit, which serve raises to its hard limit at start')
            [CompletionResult]::new('--max-concurrent', '--max-concurrent', [CompletionResultType]::ParameterName, 'Requests served at once, all callers together, once their bodies are in; more are answered 503 at once')
            [CompletionResult]::new('--max-concurrent-per-caller', '--max-concurrent-per-caller', [CompletionResultType]::ParameterName, 'Requests one caller (a token, or a JWT subject) may have in flight, body included; more are answered 429')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Requests a second one caller may make, in bursts of as many; more are answered 429 with Retry-After. 0: no limit')
            [CompletionResult]::new('--create-rate-limit', '--create-rate-limit', [CompletionResultType]::ParameterName, 'Multipart uploads a second one caller may create (each costs storage until completed or aborted), in bursts of as many. 0: no limit')
            [CompletionResult]::new('--address-rate-limit', '--address-rate-limit', [CompletionResultType]::ParameterName, 'Requests a second one client address may make to the routes that need no token (the page, /healthz, /openapi.json). 0: no limit')
            [CompletionResult]::new('--metrics-listen', '--metrics-listen', [CompletionResultType]::ParameterName, 'Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 (a listener of its own, with no authentication: keep it private)')
            [CompletionResult]::new('--sse', '--sse', [CompletionResultType]::ParameterName, 'Encrypt every object: AES256, aws:kms or aws:kms:dsse')
            [CompletionResult]::new('--sse-kms-key-id', '--sse-kms-key-id', [CompletionResultType]::ParameterName, 'The KMS key for --sse aws:kms (an ID, ARN or alias)')
            [CompletionResult]::new('--storage-class', '--storage-class', [CompletionResultType]::ParameterName, 'Storage class of every object, e.g. STANDARD_IA')
            [CompletionResult]::new('--tagging', '--tagging', [CompletionResultType]::ParameterName, 'Tags of every object, URL-encoded: ''key1=value1&key2=value2''')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--no-auth', '--no-auth', [CompletionResultType]::ParameterName, 'Accept requests with no token at all (only on a loopback address)')
            [CompletionResult]::new('--apply-bucket-cors', '--apply-bucket-cors', [CompletionResultType]::ParameterName, 'Replace the bucket''s CORS configuration with one that lets browsers at the --cors-origin origins PUT parts and read their ETag, then serve')
            [CompletionResult]::new('--json-logs', '--json-logs', [CompletionResultType]::ParameterName, 'Log one JSON object per request instead of text')
            [CompletionResult]::new('--trust-proxy', '--trust-proxy', [CompletionResultType]::ParameterName, 'Take the client''s address from the first X-Forwarded-For hop (for the logs and the per-address limits): only behind a proxy that sets it')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        's3up;completions' {
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region (default: AWS_REGION or the profile''s region; us-east-1 with a custom endpoint)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile from ~/.aws/config and ~/.aws/credentials')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificates in this PEM file for the endpoint''s TLS (a private CA), as aws does; kept in the journal for resume')
            [CompletionResult]::new('--journal-dir', '--journal-dir', [CompletionResultType]::ParameterName, 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)')
            [CompletionResult]::new('--path-style', '--path-style', [CompletionResultType]::ParameterName, 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY')
            [CompletionResult]::new('--no-verify-ssl', '--no-verify-ssl', [CompletionResultType]::ParameterName, 'Do not check the endpoint''s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        's3up;help' {
            [CompletionResult]::new('put', 'put', [CompletionResultType]::ParameterValue, 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Upload a tree like `put`, skipping each file whose object is unchanged')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet')
            [CompletionResult]::new('list-pending', 'list-pending', [CompletionResultType]::ParameterValue, 'List unfinished uploads: local journals, or with --remote the uploads S3 holds')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the presigning backend: clients upload with a token and no AWS credentials')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        's3up;help;put' {
            break
        }
        's3up;help;sync' {
            break
        }
        's3up;help;resume' {
            break
        }
        's3up;help;list-pending' {
            break
        }
        's3up;help;abort' {
            break
        }
        's3up;help;serve' {
            break
        }
        's3up;help;completions' {
            break
        }
        's3up;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
