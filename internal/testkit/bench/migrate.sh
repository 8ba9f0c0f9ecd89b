#!/usr/bin/env bash
# compare.sh: relkit's `migrate` command against golang-migrate's own CLI
# (the version in go.mod, built with -tags 'postgres sqlite'), in one run,
# on the same databases and the same 500 trivial migrations: embedded in
# relkit's binary (testdata/migrateapp, as an application embeds them), read from a
# directory by golang-migrate's CLI (as it reads them):
#
#   up-500  : apply 500 migrations to an empty database (reset before each run)
#   no-op   : run again on a database that is up to date
#
# Engines: SQLite (a file in a temporary directory) and PostgreSQL
# (BENCH_POSTGRES_URL's server, default the local one; the database
# relkit_bench is dropped and created). Needs hyperfine and psql. Prints
# mean times and the ratio relkit / golang-migrate (target: <= 1.10).
#
#   bash internal/testkit/bench/migrate.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../../.."

N=${BENCH_N:-500}
RUNS_UP=${BENCH_RUNS_UP:-5}
RUNS_NOOP=${BENCH_RUNS_NOOP:-20}
PG_ADMIN=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PG_URL=${PG_ADMIN%%/postgres\?*}/relkit_bench?sslmode=disable

command -v hyperfine >/dev/null || { echo "compare.sh needs hyperfine (apt-get install hyperfine)"; exit 1; }
command -v psql >/dev/null || { echo "compare.sh needs psql (apt-get install postgresql-client)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gm_version=$(go list -m -f '{{.Version}}' github.com/golang-migrate/migrate/v4)
echo "building golang-migrate $gm_version CLI and relkit's migrateapp"
GOBIN="$work/bin" GOFLAGS= go install -tags 'postgres sqlite' "github.com/golang-migrate/migrate/v4/cmd/migrate@$gm_version"

mkdir "$work/migrations"
for i in $(seq 1 "$N"); do
  printf 'CREATE TABLE t_%d (id INTEGER);\n' "$i" >"$work/migrations/$(printf '%04d' "$i")_t_$i.up.sql"
  printf 'DROP TABLE t_%d;\n' "$i" >"$work/migrations/$(printf '%04d' "$i")_t_$i.down.sql"
done
embed=internal/testkit/bench/testdata/migrateapp/migrations
rm -rf "$embed" && cp -r "$work/migrations" "$embed"
go build -tags bench -o "$work/bin/benchapp" ./internal/testkit/bench/testdata/migrateapp
rm -rf "$embed"

export LOG_FORMAT=json
gm="$work/bin/migrate"
rk="$work/bin/benchapp"
sqlite_file="$work/bench.db"
pg_reset="psql -q '$PG_ADMIN' -c 'DROP DATABASE IF EXISTS relkit_bench WITH (FORCE)' -c 'CREATE DATABASE relkit_bench'"

results="$work/results.md"
: >"$results"
bench() { # name runs prepare cmd-golang-migrate cmd-relkit
  local name=$1 runs=$2 prepare=$3
  hyperfine --style basic --runs "$runs" --prepare "$prepare" \
    --export-json "$work/$name.json" \
    -n golang-migrate "$4" -n relkit "$5" >/dev/null
  python3 - "$work/$name.json" "$name" >>"$results" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
g, k = r["golang-migrate"], r["relkit"]
print(f"| {sys.argv[2]} | {g['mean']*1000:.1f} ± {g['stddev']*1000:.1f} ms | {k['mean']*1000:.1f} ± {k['stddev']*1000:.1f} ms | {k['mean']/g['mean']:.2f}× |")
PY
}

gm_sqlite="$gm -path $work/migrations -database sqlite://$sqlite_file up"
rk_sqlite="DATABASE_URL=sqlite://$sqlite_file $rk migrate"
gm_pg="$gm -path $work/migrations -database '$PG_URL' up"
rk_pg="DATABASE_URL='$PG_URL' $rk migrate"

echo "SQLite: up-$N"
bench "sqlite-up-$N" "$RUNS_UP" "rm -f $sqlite_file" "$gm_sqlite" "$rk_sqlite"
echo "SQLite: no-op"
bash -c "$rk_sqlite" >/dev/null 2>&1
bench "sqlite-no-op" "$RUNS_NOOP" "true" "$gm_sqlite" "$rk_sqlite"
echo "PostgreSQL: up-$N"
bench "postgres-up-$N" "$RUNS_UP" "$pg_reset" "$gm_pg" "$rk_pg"
echo "PostgreSQL: no-op"
bash -c "$rk_pg" >/dev/null 2>&1
bench "postgres-no-op" "$RUNS_NOOP" "true" "$gm_pg" "$rk_pg"
psql -q "$PG_ADMIN" -c 'DROP DATABASE IF EXISTS relkit_bench WITH (FORCE)'

echo
echo "| case | golang-migrate $gm_version CLI | relkit migrate | relkit / golang-migrate |"
echo "| --- | --- | --- | --- |"
cat "$results"
