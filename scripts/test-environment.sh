#!/usr/bin/env bash
# What the test suite needs from the machine, installed and started when it is
# missing, so that `make test` alone works on a fresh Debian machine (CI runs
# `make test` too, through .ci/run):
#
# * the Debian packages below;
# * a MariaDB server on 127.0.0.1:3306 where root logs in over TCP with no
#   password: the storage tests create and drop throw-away databases there.
#
# When everything is there it only checks (dpkg-query and one query), so it is
# fast enough to run before every test run.
set -euo pipefail

# chromium: the browser tests; mediawiki, php-cli, php-sqlite3: the evidence
# tests run a real MediaWiki; wrk: `make bench`; fonts-noto-core: fonts for the
# Arabic and Persian pages Chromium lays out; mariadb-server: the storage tests.
PACKAGES=(chromium mediawiki php-cli php-sqlite3 wrk fonts-noto-core mariadb-server)
MARIADB_WAIT_SECONDS=30
NAME_RESOLVE_CNF=99-incident-reporting-tests.cnf

say() { echo "test-environment: $*" >&2; }

can_be_root() { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

# -- Debian packages ------------------------------------------------------------------------

install_missing_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "no dpkg-query (not Debian?): make sure these are installed: ${PACKAGES[*]}"
    return
  fi
  local missing=() package status
  for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  [ ${#missing[@]} -gt 0 ] || return 0

  if ! can_be_root; then
    say "missing Debian packages: ${missing[*]}; cannot install them (not root and no sudo)."
    say "As root: apt-get update && apt-get install --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing missing Debian packages: ${missing[*]}"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
      || ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    say "could not install ${missing[*]} with apt-get (see above)"
    exit 1
  fi
}

# -- MariaDB --------------------------------------------------------------------------------

# What the tests do: root, empty password, TCP to 127.0.0.1:3306 (no option files,
# so a ~/.my.cnf password cannot make this pass where the tests would fail).
root_logs_in() {
  mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P 3306 -u root --skip-password -e 'SELECT 1' >/dev/null 2>&1
}

# Something answers on 127.0.0.1:3306 (ping succeeds even when the login is refused).
server_answers() {
  mariadb-admin --no-defaults --protocol=TCP -h 127.0.0.1 -P 3306 -u root --skip-password ping >/dev/null 2>&1
}

start_mariadb() {
  if [ -d /run/systemd/system ]; then
    as_root systemctl start mariadb || true
    return
  fi
  # Without systemd (containers, CI machines) do what Debian's service would:
  # the socket directory (on /run, which a reboot empties), a data directory
  # with the system tables (the package's postinst makes it, but ignores a
  # failure), then the server itself, as the mysql user.
  as_root install -d -m 755 -o mysql -g root /run/mysqld
  local datadir
  datadir=$(my_print_defaults --mysqld 2>/dev/null | sed -n 's/^--datadir=//p' | tail -n 1)
  datadir=${datadir:-/var/lib/mysql}
  if ! as_root test -d "$datadir/mysql"; then
    say "initialising MariaDB's data directory $datadir"
    local output
    if ! output=$(as_root mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db 2>&1); then
      printf '%s\n' "$output" >&2
      say "mariadb-install-db failed"
      exit 1
    fi
  fi
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
}

wait_for_mariadb() {
  for _ in $(seq 1 "$MARIADB_WAIT_SECONDS"); do
    server_answers && return 0
    sleep 1
  done
  say "MariaDB did not answer on 127.0.0.1:3306 within $MARIADB_WAIT_SECONDS s; run 'mariadbd --user=mysql' as root to see why"
  exit 1
}

restart_mariadb() {
  if [ -d /run/systemd/system ]; then
    as_root systemctl restart mariadb || true
  else
    as_root mariadb-admin -u root shutdown || true
    start_mariadb
  fi
  wait_for_mariadb
}

# A query as MariaDB's root through the unix socket: Debian's root@localhost logs in
# there as the system's root (unix_socket authentication), with no password.
as_mariadb_root() { as_root mariadb -u root -N -B -e "$1"; }

# Debian's root@localhost logs in only through the unix socket; the tests connect
# over TCP. Add root@127.0.0.1 with no password, as this project's machines have it:
# TCP from the loopback address only (Debian's server listens on 127.0.0.1 only).
# A root@127.0.0.1 that exists already (e.g. with a password) is left as it is.
allow_root_over_tcp() {
  local accounts
  accounts=$(as_mariadb_root "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'root' AND Host = '127.0.0.1'" \
    2>/dev/null) || return 0
  [ "$accounts" = 0 ] || return 0
  say "adding MariaDB user root@127.0.0.1 (no password) for the tests"
  as_mariadb_root "CREATE USER 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION"
}

# With host name resolution on (Debian's default), a TCP client on 127.0.0.1 is
# 'localhost' and meets root@localhost's socket-only login before root@127.0.0.1.
# skip-name-resolve (as on this project's machines) matches clients by address
# only: it grants nothing, and socket logins stay 'localhost'.
skip_name_resolve() {
  [ "$(as_mariadb_root 'SELECT @@skip_name_resolve' 2>/dev/null)" = 0 ] || return 0
  local dir
  for dir in /etc/mysql/mariadb.conf.d /etc/mysql/conf.d; do
    [ -d "$dir" ] && break
  done
  [ -d "$dir" ] || return 0
  say "turning on skip-name-resolve in $dir/$NAME_RESOLVE_CNF and restarting MariaDB"
  printf '%s\n' "# Written by the incident-reporting tool's scripts/test-environment.sh: match TCP clients" \
    "# by address, so that root@127.0.0.1 (the tests' login) is not taken for root@localhost." \
    "[mysqld]" "skip-name-resolve" | as_root tee "$dir/$NAME_RESOLVE_CNF" >/dev/null
  restart_mariadb
}

ensure_mariadb() {
  root_logs_in && return 0
  if ! can_be_root; then
    say "root cannot log in to MariaDB on 127.0.0.1:3306 without a password, and this script cannot fix that"
    say "(not root and no sudo): start MariaDB and give the tests that login, then run make test again"
    exit 1
  fi
  if ! server_answers; then
    say "starting MariaDB"
    start_mariadb
    wait_for_mariadb
  fi
  root_logs_in && return 0
  allow_root_over_tcp
  root_logs_in && return 0
  skip_name_resolve
  if ! root_logs_in; then
    say "MariaDB answers on 127.0.0.1:3306 but root cannot log in there without a password, which the tests need."
    say "As MariaDB's root: CREATE USER 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
    say "and set skip-name-resolve under [mysqld] if a TCP login from 127.0.0.1 is taken for root@localhost."
    exit 1
  fi
}

install_missing_packages
ensure_mariadb
