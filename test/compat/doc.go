// Package compat is the compatibility matrix: for the installed chronyd and
// for every chrony release built from a source tarball (3.4 to 4.8), it
// starts a private lab whose daemon under test is that release, and checks
// the client and the Telegraf plugin over the unix socket and over UDP,
// with chronyd synchronised (to one of sources of every kind:
// chronylab.Options.AllSources), unsynchronised and on its local reference,
// field by field against that release's own `chronyc -c tracking`, and
// the client's and the plugin's sources, sourcestats, activity and
// serverstats against its `chronyc -c` of each, each read bracketed by two chronyc readings; and
// that --diagnose names the release. The README's
// "chronyd versions" table is the table this matrix produces
// (`go test ./test/compat -run TestMatrix -update` rewrites it).
//
// The package holds tests only (this file gives it a non-test file so that
// `go build ./...` and `go vet ./...` see a package).
//
// Environment:
//
//	TELEGRAF_CHRONY_CHRONY_SRC=DIR   directory of chrony-VERSION.tar.gz; without it
//	                                 only the installed chronyd is tested (.ci/run
//	                                 sets ../shared/chrony-src)
//	TELEGRAF_CHRONY_CACHE=DIR        where built releases are kept (default
//	                                 <user cache dir>/telegraf-chrony)
//	TELEGRAF_CHRONY_REQUIRE_LAB=1    the installed chronyd must be there
//
// Once the variable is set, a release that fails to build or to run fails
// its own subtest (named by the release); the other releases still run.
package compat
