#!/usr/bin/env bash
# bench/compare_clickhouse --chunks / --resume (issue 11): a chunked load stopped in the middle of
# a chunk's Ariadne replay, resumed, stopped again in the middle of a chunk's ClickHouse insert,
# and resumed to the end must leave both engines with every span exactly once — the answer checks
# compare exact counts per service, name and bucket, so a span lost or loaded twice fails them.
# Usage: compare_clickhouse_resume.sh PYTHON SCRIPT ARIADNE_BIN GEN_BIN. Exit 77: no ClickHouse.
set -u
python=$1 script=$2
shift 2
bins=(--ariadne-bin "$1" --gen-bin "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/compare-resume.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$python" "$script" --spans 30000 --chunks 3 --work-dir "$work/w" --quick "${bins[@]}" \
  --test-interrupt ariadne:2
rc=$?
[[ $rc == 77 ]] && exit 77
if [[ $rc != 130 ]]; then
  echo "FAIL: the first run should stop in chunk 2's replay with 130, exited $rc" >&2
  exit 1
fi
"$python" "$script" --resume "$work/w" --quick "${bins[@]}" --test-interrupt clickhouse:3
rc=$?
if [[ $rc != 130 ]]; then
  echo "FAIL: the second run should stop in chunk 3's insert with 130, exited $rc" >&2
  exit 1
fi
"$python" "$script" --resume "$work/w" --quick "${bins[@]}"
rc=$?
if [[ $rc != 0 ]]; then
  echo "FAIL: the resumed load should give the same answers in both engines, exited $rc" >&2
  exit 1
fi
done=$("$python" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["done"]))' \
  "$work/w/chunks.json")
if [[ $done != 3 ]]; then
  echo "FAIL: chunks.json lists $done finished chunks, expected 3" >&2
  exit 1
fi
echo "resumed chunked load: both engines agree on all 30000 spans"
