# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_s3up_global_optspecs
    string join \n endpoint-url= region= profile= path-style ca-bundle= no-verify-ssl journal-dir= h/help V/version
end

function __fish_s3up_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_s3up_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_s3up_using_subcommand
    set -l cmd (__fish_s3up_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c s3up -n "__fish_s3up_needs_command" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_needs_command" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_needs_command" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_needs_command" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_needs_command" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_needs_command" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_needs_command" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_needs_command" -s V -l version -d 'Print version'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "put" -d 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "cp" -d 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "sync" -d 'Upload a tree like `put`, skipping each file whose object is unchanged'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "resume" -d 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "list-pending" -d 'List unfinished uploads: local journals, or with --remote the uploads S3 holds'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "abort" -d 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "serve" -d 'Run the presigning backend: clients upload with a token and no AWS credentials'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c s3up -n "__fish_s3up_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l exclude -d 'Leave out files matching GLOB (repeatable). A pattern without \'/\' matches the file name at any depth (\'*.tmp\'); one with \'/\' the path under the prefix (\'logs/*.gz\'); \'*\' stops at \'/\', \'**\' does not. An excluded file is never sent, whatever --include says' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l include -d 'Send only files matching GLOB (repeatable; same patterns as --exclude)' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l via -d 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l token-file -d 'Read the --via backend\'s token from FILE [default: the S3UP_TOKEN environment variable]' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand put" -l token -d 'The --via backend\'s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l part-size -d 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l expected-size -d 'For standard input (\'-\'): the stream\'s size, when known. Its parts are then sized as a file\'s of that size (with an ETA); without it they grow as the stream does, from 8MiB' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l concurrency -d 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l retries -d 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l stall-timeout -d 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l max-offline -d 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l limit-rate -d 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l max-memory -d 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l progress -d 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged' -r -f -a "auto\t'A bar when stderr is a terminal, else as none'
json\t'One JSON object a second on stderr (acknowledged and sent bytes, rate, ETA, parts, state)'
none\t'No bar; one line each time the state changes (retrying, stalled, waiting for the network)'"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l content-type -d 'Content-Type of the object [default: guessed from the file extension]' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l storage-class -d 'Storage class of the object, e.g. STANDARD_IA [default: the bucket\'s]' -r -f -a "AWS_BACKUP_LOW_COST_WARM\t''
AWS_BACKUP_WARM\t''
DEEP_ARCHIVE\t''
EXPRESS_ONEZONE\t''
FSX_ONTAP\t''
FSX_OPENZFS\t''
GLACIER\t''
GLACIER_IR\t''
INTELLIGENT_TIERING\t''
ONEZONE_IA\t''
OUTPOSTS\t''
REDUCED_REDUNDANCY\t''
SNOW\t''
STANDARD\t''
STANDARD_IA\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l metadata -d 'User metadata stored with the object (x-amz-meta-KEY); repeatable' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l sse -d 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket\'s]' -r -f -a "AES256\t''
aws:kms\t''
aws:kms:dsse\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l sse-kms-key-id -d 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account\'s aws/s3 key]' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l sse-c -d 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again' -r -f -a "AES256\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l sse-c-key -d 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand put" -l acl -d 'Canned ACL of the object, e.g. bucket-owner-full-control' -r -f -a "authenticated-read\t''
aws-exec-read\t''
bucket-owner-full-control\t''
bucket-owner-read\t''
private\t''
public-read\t''
public-read-write\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l cache-control -d 'Cache-Control of the object, e.g. \'max-age=3600\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l content-disposition -d 'Content-Disposition of the object, e.g. \'attachment; filename="a.bin"\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l content-encoding -d 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l content-language -d 'Content-Language of the object, e.g. en-GB' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l expires -d 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l tagging -d 'Tags of the object, URL-encoded: \'key1=value1&key2=value2\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l expected-bucket-owner -d 'Fail unless the bucket belongs to this AWS account ID' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l request-payer -d 'Accept the charges of a Requester Pays bucket' -r -f -a "requester\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l checksum-algorithm -d 'Checksum of each part, checked by the store [default: SHA256]' -r -f -a "SHA256\t''
CRC64NVME\t''
CRC32C\t''
CRC32\t''
SHA1\t''"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l checksum-type -d 'composite: a checksum of the parts\' checksums; full-object: the whole object\'s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]' -r -f -a "composite\t'A checksum of the parts\' checksums, "…-N" (S3\'s COMPOSITE)'
full-object\t'The checksum of the whole object (S3\'s FULL_OBJECT; CRCs only)'"
complete -c s3up -n "__fish_s3up_using_subcommand put" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand put" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand put" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand put" -s r -l recursive -d 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l follow-symlinks -d 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l restart -d 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l no-progress -d 'Same as --progress none'
complete -c s3up -n "__fish_s3up_using_subcommand put" -s q -l quiet -d 'Print nothing but errors'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l json -d 'Print one JSON summary object on stdout when done'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l if-none-match -d 'Fail instead of overwriting when the key already exists'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand put" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand put" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l exclude -d 'Leave out files matching GLOB (repeatable). A pattern without \'/\' matches the file name at any depth (\'*.tmp\'); one with \'/\' the path under the prefix (\'logs/*.gz\'); \'*\' stops at \'/\', \'**\' does not. An excluded file is never sent, whatever --include says' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l include -d 'Send only files matching GLOB (repeatable; same patterns as --exclude)' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l via -d 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l token-file -d 'Read the --via backend\'s token from FILE [default: the S3UP_TOKEN environment variable]' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l token -d 'The --via backend\'s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l part-size -d 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l expected-size -d 'For standard input (\'-\'): the stream\'s size, when known. Its parts are then sized as a file\'s of that size (with an ETA); without it they grow as the stream does, from 8MiB' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l concurrency -d 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l retries -d 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l stall-timeout -d 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l max-offline -d 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l limit-rate -d 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l max-memory -d 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l progress -d 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged' -r -f -a "auto\t'A bar when stderr is a terminal, else as none'
json\t'One JSON object a second on stderr (acknowledged and sent bytes, rate, ETA, parts, state)'
none\t'No bar; one line each time the state changes (retrying, stalled, waiting for the network)'"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l content-type -d 'Content-Type of the object [default: guessed from the file extension]' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l storage-class -d 'Storage class of the object, e.g. STANDARD_IA [default: the bucket\'s]' -r -f -a "AWS_BACKUP_LOW_COST_WARM\t''
AWS_BACKUP_WARM\t''
DEEP_ARCHIVE\t''
EXPRESS_ONEZONE\t''
FSX_ONTAP\t''
FSX_OPENZFS\t''
GLACIER\t''
GLACIER_IR\t''
INTELLIGENT_TIERING\t''
ONEZONE_IA\t''
OUTPOSTS\t''
REDUCED_REDUNDANCY\t''
SNOW\t''
STANDARD\t''
STANDARD_IA\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l metadata -d 'User metadata stored with the object (x-amz-meta-KEY); repeatable' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l sse -d 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket\'s]' -r -f -a "AES256\t''
aws:kms\t''
aws:kms:dsse\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l sse-kms-key-id -d 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account\'s aws/s3 key]' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l sse-c -d 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again' -r -f -a "AES256\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l sse-c-key -d 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l acl -d 'Canned ACL of the object, e.g. bucket-owner-full-control' -r -f -a "authenticated-read\t''
aws-exec-read\t''
bucket-owner-full-control\t''
bucket-owner-read\t''
private\t''
public-read\t''
public-read-write\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l cache-control -d 'Cache-Control of the object, e.g. \'max-age=3600\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l content-disposition -d 'Content-Disposition of the object, e.g. \'attachment; filename="a.bin"\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l content-encoding -d 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l content-language -d 'Content-Language of the object, e.g. en-GB' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l expires -d 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l tagging -d 'Tags of the object, URL-encoded: \'key1=value1&key2=value2\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l expected-bucket-owner -d 'Fail unless the bucket belongs to this AWS account ID' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l request-payer -d 'Accept the charges of a Requester Pays bucket' -r -f -a "requester\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l checksum-algorithm -d 'Checksum of each part, checked by the store [default: SHA256]' -r -f -a "SHA256\t''
CRC64NVME\t''
CRC32C\t''
CRC32\t''
SHA1\t''"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l checksum-type -d 'composite: a checksum of the parts\' checksums; full-object: the whole object\'s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]' -r -f -a "composite\t'A checksum of the parts\' checksums, "…-N" (S3\'s COMPOSITE)'
full-object\t'The checksum of the whole object (S3\'s FULL_OBJECT; CRCs only)'"
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand cp" -s r -l recursive -d 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l follow-symlinks -d 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l restart -d 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l no-progress -d 'Same as --progress none'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -s q -l quiet -d 'Print nothing but errors'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l json -d 'Print one JSON summary object on stdout when done'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l if-none-match -d 'Fail instead of overwriting when the key already exists'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand cp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l exclude -d 'Leave out files matching GLOB (repeatable). A pattern without \'/\' matches the file name at any depth (\'*.tmp\'); one with \'/\' the path under the prefix (\'logs/*.gz\'); \'*\' stops at \'/\', \'**\' does not. An excluded file is never sent, whatever --include says' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l include -d 'Send only files matching GLOB (repeatable; same patterns as --exclude)' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l via -d 'Upload through this backend (`s3up serve`, or an Uppy Companion) with its token and no AWS credentials: part bodies go straight to S3 with presigned URLs, every other call goes to the backend' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l token-file -d 'Read the --via backend\'s token from FILE [default: the S3UP_TOKEN environment variable]' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l token -d 'The --via backend\'s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l part-size -d 'Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB) [default: 8MiB, raised when the file needs more than 10,000 parts]' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l expected-size -d 'For standard input (\'-\'): the stream\'s size, when known. Its parts are then sized as a file\'s of that size (with an ETA); without it they grow as the stream does, from 8MiB' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l concurrency -d 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l retries -d 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l stall-timeout -d 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l max-offline -d 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l limit-rate -d 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l max-memory -d 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l progress -d 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged' -r -f -a "auto\t'A bar when stderr is a terminal, else as none'
json\t'One JSON object a second on stderr (acknowledged and sent bytes, rate, ETA, parts, state)'
none\t'No bar; one line each time the state changes (retrying, stalled, waiting for the network)'"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l content-type -d 'Content-Type of the object [default: guessed from the file extension]' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l storage-class -d 'Storage class of the object, e.g. STANDARD_IA [default: the bucket\'s]' -r -f -a "AWS_BACKUP_LOW_COST_WARM\t''
AWS_BACKUP_WARM\t''
DEEP_ARCHIVE\t''
EXPRESS_ONEZONE\t''
FSX_ONTAP\t''
FSX_OPENZFS\t''
GLACIER\t''
GLACIER_IR\t''
INTELLIGENT_TIERING\t''
ONEZONE_IA\t''
OUTPOSTS\t''
REDUCED_REDUNDANCY\t''
SNOW\t''
STANDARD\t''
STANDARD_IA\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l metadata -d 'User metadata stored with the object (x-amz-meta-KEY); repeatable' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l sse -d 'Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse [default: the bucket\'s]' -r -f -a "AES256\t''
aws:kms\t''
aws:kms:dsse\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l sse-kms-key-id -d 'The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the account\'s aws/s3 key]' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l sse-c -d 'Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The key is never written to the journal: `s3up resume` needs it again' -r -f -a "AES256\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l sse-c-key -d 'The SSE-C key: a file holding its 32 bytes, raw or in base64 (fileb://PATH is accepted too)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l acl -d 'Canned ACL of the object, e.g. bucket-owner-full-control' -r -f -a "authenticated-read\t''
aws-exec-read\t''
bucket-owner-full-control\t''
bucket-owner-read\t''
private\t''
public-read\t''
public-read-write\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l cache-control -d 'Cache-Control of the object, e.g. \'max-age=3600\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l content-disposition -d 'Content-Disposition of the object, e.g. \'attachment; filename="a.bin"\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l content-encoding -d 'Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l content-language -d 'Content-Language of the object, e.g. en-GB' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l expires -d 'Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l tagging -d 'Tags of the object, URL-encoded: \'key1=value1&key2=value2\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l expected-bucket-owner -d 'Fail unless the bucket belongs to this AWS account ID' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l request-payer -d 'Accept the charges of a Requester Pays bucket' -r -f -a "requester\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l checksum-algorithm -d 'Checksum of each part, checked by the store [default: SHA256]' -r -f -a "SHA256\t''
CRC64NVME\t''
CRC32C\t''
CRC32\t''
SHA1\t''"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l checksum-type -d 'composite: a checksum of the parts\' checksums; full-object: the whole object\'s CRC, for CRC64NVME, CRC32C and CRC32 [default: full-object for CRC64NVME, else composite]' -r -f -a "composite\t'A checksum of the parts\' checksums, "…-N" (S3\'s COMPOSITE)'
full-object\t'The checksum of the whole object (S3\'s FULL_OBJECT; CRCs only)'"
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand sync" -s r -l recursive -d 'Accepted for `aws s3 cp` hands: a directory always uploads its whole tree'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l follow-symlinks -d 'Follow symbolic links inside directories (a link back to a directory being uploaded is skipped, so the walk never loops). Without it links are skipped with a warning; a link named on the command line is always followed'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l restart -d 'Abort an unfinished upload of this file to this destination and start afresh (without it, `put` resumes that upload)'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l no-progress -d 'Same as --progress none'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -s q -l quiet -d 'Print nothing but errors'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l json -d 'Print one JSON summary object on stdout when done'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l if-none-match -d 'Fail instead of overwriting when the key already exists'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l size-only -d 'Unchanged means the same size alone (not the time)'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l checksum -d 'Unchanged means the same content: each file whose size matches is read and its MD5 compared with the ETag listed (the MD5 of the object, or of its parts at this --part-size). Objects encrypted with SSE-KMS list no MD5 and are always sent'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l sse-c-key -d 'The SSE-C key the upload started with (the journal keeps only its MD5, and a different key is refused): a file, as for `put`' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l token-file -d 'Read the --via backend\'s token from FILE [default: the S3UP_TOKEN environment variable]' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l token -d 'The --via backend\'s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l concurrency -d 'How many parts are uploaded at once. Without it, s3up adapts: it starts at 8, raises it while that raises the throughput (a long link needs many), up to 64, and halves it when the store says it is overloaded (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the fixed default of earlier versions [default: auto, up to 64]' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l retries -d 'Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l stall-timeout -d 'How long a request may make no progress before it counts as stalled and is retried, e.g. 30 (seconds), 30s or 2m' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l max-offline -d 'How long to wait for a store (or backend) that gives no answer at all (connection refused or reset, no route, a hang), probing it meanwhile: e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted against --retries. When the wait runs out the run stops, resumable, with exit code 3; 0 stops at once, as the retries run out' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l limit-rate -d 'Send at most RATE bytes a second, all parts together, so that the upload shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of 1024; `/s` is optional, and a bare number is bytes a second). Not kept in the journal: a resume takes its own [default: no limit]' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l max-memory -d 'Standard input: the most memory its parts may hold at once (they are buffered until sent; as parts grow, fewer go at once, and no part is larger than this)' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l progress -d 'How to show progress on stderr: auto (a bar when stderr is a terminal, else as none), json (one JSON object a second, for CI logs and GUIs), or none (no bar; one line each time the state changes: retrying, stalled, waiting for the network). The bar and the rate count only what the store has acknowledged' -r -f -a "auto\t'A bar when stderr is a terminal, else as none'
json\t'One JSON object a second on stderr (acknowledged and sent bytes, rate, ETA, parts, state)'
none\t'No bar; one line each time the state changes (retrying, stalled, waiting for the network)'"
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l all -d 'Resume every pending upload, one after another'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l no-verify -d 'Trust the parts the journal names without re-reading them. Faster when the missing parts are few and the disk is slow, but a file rewritten in place with its modification time kept (cp -p, rsync -t, tar x) then gives an object that mixes old and new bytes. Parts on S3 that the journal lost are still checked before they are reused'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l verify -d 'The default; accepted so that older scripts keep working'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l no-progress -d 'Same as --progress none'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -s q -l quiet -d 'Print nothing but errors'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l json -d 'Print one JSON summary object on stdout when done'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l remote -d 'List the in-progress uploads S3 holds under s3://BUCKET[/PREFIX] instead (they cost storage until completed or aborted)' -r
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l json -d 'Print a JSON array on stdout'
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand list-pending" -s h -l help -d 'Print help'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l remote -d 'Abort in-progress uploads S3 holds under s3://BUCKET[/PREFIX] (with --older-than)' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l older-than -d 'Only uploads started longer ago than this, e.g. 7d, 12h, 30m, 0s (required with --remote)' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l token-file -d 'Read the --via backend\'s token from FILE [default: the S3UP_TOKEN environment variable]' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l token -d 'The --via backend\'s token itself. Other users of this machine can see it in `ps`: prefer --token-file or S3UP_TOKEN' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l yes -d 'Really abort; without it, --remote only lists what it would abort'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l include-local -d 'With --remote, also abort uploads a local journal owns, and delete their journals; without it they are listed, marked, and kept'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l forget -d 'Remove the journal even if the abort fails (a backend that is gone for good, a token you no longer have). The upload may then stay open on the store, costing storage, until a lifecycle rule removes it; its ID is printed'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand abort" -s h -l help -d 'Print help'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l listen -d 'Address to listen on, e.g. 127.0.0.1:8080, or 0.0.0.0:8080 behind a TLS proxy' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l bucket -d 'The bucket uploads go to' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l prefix -d 'Every key lies under this prefix (each caller\'s own prefix comes after it)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l url-expiry -d 'How long a presigned URL stays valid, e.g. 15m, 1h, 900 (seconds); at most 7d, and never past the credentials\' own expiry' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l tokens -d 'Bearer tokens: lines \'sha256:HEX PREFIX [ID]\' (see the README)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l jwt-secret-file -d 'Accept HS256 JWTs signed with this file\'s contents; \'exp\' is required, \'nbf\' and \'iat\' are enforced, and the \'prefix\' claim names what the caller may write' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l jwt-max-lifetime -d 'The longest a JWT may live: tokens whose exp - iat, or exp - now, is longer are refused, e.g. 1h, 1d' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l cors-origin -d 'Let browser pages from this origin call serve (repeatable; * for any)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l request-timeout -d 'How long a request may take, once its body is in, before it is answered 408, e.g. 300 (seconds) or 5m' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l header-timeout -d 'How long a request\'s line and headers may take to arrive; also how long an idle keep-alive connection is kept' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l body-timeout -d 'How long a request\'s body may take to arrive (answered 408 after)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l write-timeout -d 'How long a client may leave the answer unread before its connection is closed (measured between two writes that make progress)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l max-connections -d 'Connections open at once; more are answered 503 and closed. Kept below the open-file limit, which serve raises to its hard limit at start' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l max-concurrent -d 'Requests served at once, all callers together, once their bodies are in; more are answered 503 at once' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l max-concurrent-per-caller -d 'Requests one caller (a token, or a JWT subject) may have in flight, body included; more are answered 429' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l rate-limit -d 'Requests a second one caller may make, in bursts of as many; more are answered 429 with Retry-After. 0: no limit' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l create-rate-limit -d 'Multipart uploads a second one caller may create (each costs storage until completed or aborted), in bursts of as many. 0: no limit' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l address-rate-limit -d 'Requests a second one client address may make to the routes that need no token (the page, /healthz, /openapi.json). 0: no limit' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l metrics-listen -d 'Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 (a listener of its own, with no authentication: keep it private)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l sse -d 'Encrypt every object: AES256, aws:kms or aws:kms:dsse' -r -f -a "AES256\t''
aws:kms\t''
aws:kms:dsse\t''"
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l sse-kms-key-id -d 'The KMS key for --sse aws:kms (an ID, ARN or alias)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l storage-class -d 'Storage class of every object, e.g. STANDARD_IA' -r -f -a "AWS_BACKUP_LOW_COST_WARM\t''
AWS_BACKUP_WARM\t''
DEEP_ARCHIVE\t''
EXPRESS_ONEZONE\t''
FSX_ONTAP\t''
FSX_OPENZFS\t''
GLACIER\t''
GLACIER_IR\t''
INTELLIGENT_TIERING\t''
ONEZONE_IA\t''
OUTPOSTS\t''
REDUCED_REDUNDANCY\t''
SNOW\t''
STANDARD\t''
STANDARD_IA\t''"
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l tagging -d 'Tags of every object, URL-encoded: \'key1=value1&key2=value2\'' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l no-auth -d 'Accept requests with no token at all (only on a loopback address)'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l apply-bucket-cors -d 'Replace the bucket\'s CORS configuration with one that lets browsers at the --cors-origin origins PUT parts and read their ETag, then serve'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l json-logs -d 'Log one JSON object per request instead of text'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l trust-proxy -d 'Take the client\'s address from the first X-Forwarded-For hop (for the logs and the per-address limits): only behind a proxy that sets it'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l endpoint-url -d 'S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local store (implies --path-style)' -r
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l region -d 'AWS region (default: AWS_REGION or the profile\'s region; us-east-1 with a custom endpoint)' -r
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l profile -d 'Named profile from ~/.aws/config and ~/.aws/credentials' -r
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l ca-bundle -d 'Trust only the certificates in this PEM file for the endpoint\'s TLS (a private CA), as aws does; kept in the journal for resume' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l journal-dir -d 'Where upload journals are kept (default: the platform data directory, e.g. ~/.local/share/s3up/journal on Linux)' -r -F
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l path-style -d 'Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY'
complete -c s3up -n "__fish_s3up_using_subcommand completions" -l no-verify-ssl -d 'Do not check the endpoint\'s TLS certificate, as aws --no-verify-ssl (a private endpoint whose CA you cannot name with --ca-bundle; not with it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the journal for resume; with --via, for the backend and the part URLs too'
complete -c s3up -n "__fish_s3up_using_subcommand completions" -s h -l help -d 'Print help'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "put" -d 'Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "sync" -d 'Upload a tree like `put`, skipping each file whose object is unchanged'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "resume" -d 'Continue interrupted uploads and tree sessions: sends only what S3 does not have yet'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "list-pending" -d 'List unfinished uploads: local journals, or with --remote the uploads S3 holds'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "abort" -d 'Abort uploads on S3 and delete their journals (a tree session: every upload it holds); or clean up stale uploads in a bucket'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "serve" -d 'Run the presigning backend: clients upload with a token and no AWS credentials'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c s3up -n "__fish_s3up_using_subcommand help; and not __fish_seen_subcommand_from put sync resume list-pending abort serve completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
