#!/usr/bin/env bash
# Install into a temporary prefix, then build the README's library example
# against the installed headers and library through pkg-config, and run it
# on the example zone.  Checks the SONAME, the man pages and the CLI too.
set -u
build=$1 src=$2 extra_cflags=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null 2>&1 || bad "cmake --install failed"
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
[ -f "$tmp/prefix/include/mailtrust/mailtrust.h" ] && ok || bad "headers not installed"
[ -x "$tmp/prefix/bin/mailtrust" ] && ok || bad "CLI not installed"
for m in man1/mailtrust.1 man1/mailtrust-spf.1 man3/libmailtrust.3; do
  [ -f "$tmp/prefix/share/man/$m" ] && ok || bad "man page $m not installed"
done
soname=$(objdump -p "$libdir"/libmailtrust.so 2>/dev/null | awk '/SONAME/ {print $2}')
[ "$soname" = "libmailtrust.so.0" ] && ok || bad "SONAME is '$soname', want libmailtrust.so.0"
[ -f "$libdir/libmailtrust.a" ] && ok || bad "static library not installed"
# mailtrust-policyd: the daemon, its man page, the systemd unit naming the
# installed daemon, the sysusers.d entry and the Postfix snippet
[ -x "$tmp/prefix/sbin/mailtrust-policyd" ] && ok || bad "mailtrust-policyd not installed in sbin"
[ -f "$tmp/prefix/share/man/man8/mailtrust-policyd.8" ] && ok || bad "mailtrust-policyd.8 not installed"
unit=$tmp/prefix/lib/systemd/system/mailtrust-policyd.service
if grep -q "^ExecStart=$tmp/prefix/sbin/mailtrust-policyd " "$unit" 2>/dev/null; then ok
else bad "$unit missing or its ExecStart does not name the installed daemon"; fi
grep -q '^NoNewPrivileges=yes' "$unit" 2>/dev/null && ok || bad "unit without hardening"
[ -f "$tmp/prefix/lib/sysusers.d/mailtrust-policyd.conf" ] && ok || bad "sysusers.d entry not installed"
grep -q 'check_policy_service inet:127.0.0.1:10045' "$tmp/prefix/share/doc/mailtrust/policyd/main.cf.snippet" \
  2>/dev/null && ok || bad "main.cf snippet not installed"
if LD_LIBRARY_PATH="$libdir" "$tmp/prefix/sbin/mailtrust-policyd" --version | grep -q '^mailtrust-policyd '; then ok
else bad "installed mailtrust-policyd --version failed"; fi

# The README example, taken from README.md itself so the two stay in step.
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' "$src/README.md" > "$tmp/body.c"
{
  echo '#include <stdio.h>'
  echo 'int main(void) {'
  cat "$tmp/body.c"
  echo 'return 0; }'
} > "$tmp/example.c"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2086  # extra_cflags: sanitizer flags of this build, word-split on purpose
if cc -std=c11 -Wall -Werror $extra_cflags -o "$tmp/example" "$tmp/example.c" $(pkg-config --cflags --libs mailtrust) 2>"$tmp/cc.err"; then
  ok
  out=$(cd "$src" && LD_LIBRARY_PATH="$libdir" "$tmp/example")
  # 192.0.2.10 is inside example.com's ip4:192.0.2.0/24 (tests/data/example.zone)
  case "$out" in pass*Received-SPF:\ pass*) ok ;; *) bad "example printed: $out" ;; esac
  # the driver example: 203.0.113.9 is outside example.com's record, which ends in -all
  case "$out" in *"192.0.2.10 pass"*) ok ;; *) bad "driver example printed: $out" ;; esac
  case "$out" in *"203.0.113.9 fail"*) ok ;; *) bad "driver example printed: $out" ;; esac
else
  bad "README example does not compile against the install: $(head -5 "$tmp/cc.err")"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
