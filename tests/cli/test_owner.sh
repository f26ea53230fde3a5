# CLI tests of the domain owner's tools (issue 7): spf verify, parse, merge
# and build, offline on tests/cli/data/owner.zone.  Expectations come from
# RFC 7208 (section noted) and from the issue, not from the program's output.
. "$(dirname "$0")/lib.sh"

OZONE="$DATA/owner.zone"
verify() { run spf verify --zone "$OZONE" "$@"; }

# ---- item 5: offline --expect names no placeholder server
verify nothing.example.com --expect "v=spf1 ip4:192.0.2.1 -all"
expect_rc 2
expect_out "[expect-not-published]"
expect_out "no name servers were found for the domain, so none was asked"
expect_no_out "(none found)"
verify delegated.example.com --expect "v=spf1 ip4:192.0.2.1 -all"
expect_rc 2
expect_out "its name servers (ns1.example.net, ns2.example.net) were not asked directly"
expect_out "fix: add the record at the DNS provider that operates ns1.example.net, ns2.example.net"
expect_no_out "(none found)"

finish
