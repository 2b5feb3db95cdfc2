#!/usr/bin/env bash
# Builds the page: kiln compiled to WebAssembly, with its JavaScript bindings, into web/www/pkg.
# Installs the `wasm-bindgen` command of the version web/Cargo.lock pins when it is missing.
# Serve it with `python3 web/serve.py` and open http://127.0.0.1:8000/.
set -euo pipefail
web=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$web")

version=$(grep -A1 '^name = "wasm-bindgen"$' "$web/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
    echo "installing wasm-bindgen-cli $version (about 10 minutes on 2 cores)"
    cargo install wasm-bindgen-cli --version "$version"
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

cargo build --release --target wasm32-unknown-unknown --lib \
    --manifest-path "$web/Cargo.toml" --target-dir "$root/target"
wasm-bindgen --target web --no-typescript --out-dir "$web/www/pkg" \
    "$root/target/wasm32-unknown-unknown/release/kiln_web.wasm"
echo "built $web/www/pkg ($(du -k "$web/www/pkg/kiln_web_bg.wasm" | cut -f1) KiB of wasm)"
