#!/usr/bin/env bash
# Checks what `mdbook build` lets through: every {{#include}} of book/src names a file that
# exists (and, for `file:name`, an anchor that the file opens and closes), and every relative
# link or image (SUMMARY.md's chapters included) points at a file that exists. mdbook 0.4
# only logs a missing include and silently renders a missing anchor as nothing, so CI runs
# this next to `mdbook build book`. Then, on the built book, check-offline.py: no page loads a
# script, stylesheet, font or image from another host, and every formula was rendered.
# Usage: book/check-links.sh   (from anywhere, after `mdbook build book`; exits 1 listing
# every problem)
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)/src"
status=0
fail() { echo "check-links: $*" >&2; status=1; }

while IFS= read -r -d '' md; do
    dir=$(dirname "$md")
    rel=${md#"$src"/}
    # Includes, inside or outside code blocks: {{#include path}} or {{#include path:anchor}}.
    while IFS= read -r spec; do
        path=${spec%%:*}
        [ -f "$dir/$path" ] || { fail "$rel: include of missing file $path"; continue; }
        [ "$path" = "$spec" ] && continue
        anchor=${spec#*:}
        [[ "$anchor" =~ ^[0-9:]*$ ]] && continue # a line range, not an anchor
        grep -Eq "ANCHOR: *$anchor\b" "$dir/$path" && grep -Eq "ANCHOR_END: *$anchor\b" "$dir/$path" ||
            fail "$rel: anchor '$anchor' is not opened and closed in $path"
    done < <(grep -oE '\{\{#(rustdoc_)?include +[^} ]+' "$md" | sed -E 's/^\{\{#(rustdoc_)?include +//')
    # Relative links and images outside fenced code blocks: ](target) and src="target".
    while IFS= read -r target; do
        target=${target%%#*}
        case "$target" in '' | http://* | https://* | mailto:*) continue ;; esac
        [ -e "$dir/$target" ] || fail "$rel: link to missing $target"
    done < <(awk '/^ *```/ { fenced = !fenced; next } !fenced' "$md" |
        grep -oE '\]\([^) ]+\)|src="[^"]+"' | sed -E 's/^\]\(//; s/\)$//; s/^src="//; s/"$//')
done < <(find "$src" -name '*.md' -print0)

[ "$status" -eq 0 ] && echo "check-links: every include, anchor and relative link resolves"
python3 "$(dirname "$src")/check-offline.py" || status=1
exit "$status"
