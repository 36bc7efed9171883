#!/usr/bin/env bash
# The non-Python reference: a word count as a coreutils pipeline, 2 sort threads.
# Its rules differ: ASCII letters only (tr's classes), no skipping of ".." lines, no
# stop-word list beyond grep -v; its counts are compared, not required to be equal.
# Usage: coreutils.sh wordcount FOLDER   (prints the JSON line the driver reads)
set -euo pipefail
[ "$1" = wordcount ] || { echo '{"error": "only wordcount"}'; exit 3; }
stop='^(a|an|and|are|as|be|by|for|if|in|is|it|of|or|py|rst|that|the|to|with)$'
digest=$(find "$2" -type f ! -name '_*' -print0 | sort -z | xargs -0 cat \
    | tr -c 'A-Za-z' '\n' | tr 'A-Z' 'a-z' | grep -v '^$' | grep -Ev "$stop" \
    | LC_ALL=C sort --parallel=2 -S 512M | uniq -c | sha256sum | cut -c1-16)
echo "{\"digest\": \"$digest\", \"versions\": {\"coreutils\": \"$(sort --version | head -1)\"}}"
