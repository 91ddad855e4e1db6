#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need on Debian 12, builds the solution
# (warnings are errors) and runs every test project under tests/. Prints one line per project and,
# as its last line, "N passed, N failed" (", N skipped" when some did not run). Exits non-zero when a
# test failed, a project's run failed or crashed, or no test ran at all.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
results="$repo/artifacts/test-results"

die() {
    echo "test.sh: $*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# 1. Prerequisites. npm fetches the front-end packages during the build. Chromium is the browser of the Playwright E2E tests (never `playwright install`);
# it and its fonts are for the tests only. Libvirt, QEMU, /dev/kvm, the daemons, the default pool and
# the tiny guest the adapter's tests boot are the host's: scripts/prepare-host.sh prepares them.
# PostgreSQL's server binaries (initdb, pg_ctl; the database tests start a private server on a free port)
# and its client tools (psql, the independent client; pg_dump and pg_restore, which the engine runs), and
# the sqlite3 shell, the independent client of the embedded engine's files.
apt_packages=(chromium fonts-liberation postgresql sqlite3)
# The build runs `npm ci` in wwwroot-assets for the front-end packages (SignalR client, uPlot). Debian's
# nodejs and npm are installed only when no npm is on PATH, so a node installed another way is kept.
if ! command -v npm >/dev/null 2>&1; then
    apt_packages+=(nodejs npm)
fi
missing=()
for package in "${apt_packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} ..."
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
fi
chromium_version=$(/usr/bin/chromium --version 2>/dev/null) || die "/usr/bin/chromium --version does not work"
echo "Using $chromium_version"

as_root bash "$repo/scripts/prepare-host.sh" || die "scripts/prepare-host.sh failed"

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH (the .NET 10 SDK is required)"

# 2. Build once; the test runs below use --no-build.
if ! dotnet build VirtPortal.sln -c Release --nologo; then
    echo "Build failed: no tests were run." >&2
    echo "0 passed, 0 failed"
    exit 1
fi

# 3. Run every test project, on after a failure, so that every count is reported.
rm -rf "$results"
mkdir -p "$results"
shopt -s nullglob
projects=(tests/*/*.csproj)
shopt -u nullglob
[ "${#projects[@]}" -gt 0 ] || echo "No test projects found under tests/." >&2

declare -A run_status
for project in "${projects[@]}"; do
    name=$(basename "$project" .csproj)
    echo "=== $name"
    status=0
    dotnet test "$project" -c Release --no-build --nologo \
        --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=$?
    run_status[$name]=$status
done

# 4. Sum the TRX counters: <Counters total="N" executed="N" passed="N" failed="N" ... notExecuted="N" .../>
counter() {
    local value
    value=$(printf '%s\n' "$1" | sed -n "s/.*[[:space:]]$2=\"\([0-9][0-9]*\)\".*/\1/p")
    echo "${value:-0}"
}

passed=0 failed=0 skipped=0 total=0 broken=0
echo
echo "=== Test results"
for project in "${projects[@]}"; do
    name=$(basename "$project" .csproj)
    trx="$results/$name.trx"
    counters=$( (grep -o '<Counters [^>]*>' "$trx" 2>/dev/null || true) | head -n 1)
    if [ -z "$counters" ]; then
        echo "$name: CRASHED, no test results (dotnet test exit code ${run_status[$name]})"
        broken=$((broken + 1))
        continue
    fi
    p=$(counter "$counters" passed)
    # Errors, timeouts and aborts are failures too.
    f=$(( $(counter "$counters" failed) + $(counter "$counters" error) + $(counter "$counters" timeout) + $(counter "$counters" aborted) ))
    # VSTest leaves notExecuted at 0 for skipped tests; they show as total minus executed.
    s=$(counter "$counters" notExecuted)
    unexecuted=$(( $(counter "$counters" total) - $(counter "$counters" executed) ))
    [ "$unexecuted" -gt "$s" ] && s=$unexecuted
    t=$(counter "$counters" total)
    line="$name: $p passed, $f failed"
    [ "$s" -gt 0 ] && line+=", $s skipped"
    line+=" ($t total)"
    if [ "${run_status[$name]}" -ne 0 ] && [ "$f" -eq 0 ]; then
        line+=" - RUN FAILED (dotnet test exit code ${run_status[$name]})"
        broken=$((broken + 1))
    fi
    echo "$line"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s)) total=$((total + t))
done

# 5. Verdict; the closing line comes last because CI reads it.
exit_code=0
if [ "$failed" -gt 0 ]; then
    exit_code=1
fi
if [ "$broken" -gt 0 ]; then
    echo "$broken test project(s) did not complete their run." >&2
    exit_code=1
fi
if [ $((passed + failed)) -eq 0 ]; then
    echo "No tests ran." >&2
    exit_code=1
fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
exit "$exit_code"
