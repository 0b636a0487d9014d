#!/bin/bash -eu
# Builds every cargo-fuzz target into $OUT with its options, dictionary and seed corpus, as
# ClusterFuzzLite and OSS-Fuzz expect: $OUT/<target>, <target>.options, <target>.dict,
# <target>_seed_corpus.zip. Run from the repository's root ($SRC/wasmdiff in the image); it
# also runs outside a container with SRC, OUT and SANITIZER set (scripts/clusterfuzzlite-check
# does that). SANITIZER: address or memory build with that sanitizer; anything else (none,
# coverage, whose flags the builder image's cargo adds itself, undefined) builds without one.
[[ -f Cargo.toml ]] || cd "$SRC/wasmdiff"
source scripts/fuzz-common

case "${SANITIZER:-address}" in
    address | memory) sanitizer=$SANITIZER ;;
    *) sanitizer=none ;;
esac
ensure_cargo_fuzz
# shellcheck disable=SC2046 # one flag per word
cargo fuzz build $(build_flags "$sanitizer")

built=${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release
mkdir -p "$OUT"
for target in $(fuzz_targets); do
    cp "$built/$target" "$OUT/$target"
    cp "fuzz/$target.options" "$OUT/$target.options"
    write_dict "$target" "$OUT/$target.dict"
    rm -f "$OUT/${target}_seed_corpus.zip"
    if compgen -G "corpus/$target/*" >/dev/null; then
        (cd "corpus/$target" && python3 -m zipfile -c "$OUT/${target}_seed_corpus.zip" ./*)
    fi
done
